/**
 * `npm start`: the main job on the embedded defaults. Serves the greeter functions and runs
 * the Switchboard runtime on examples/greeter/module.yaml (store in ./.switchboard), so a
 * message posted to the ingress comes back as a greeting on the egress.
 * `npm start -- --admin-port 9099` moves the admin port (as `switchboard run` does).
 */
import { parseArgs } from "node:util";
import pino from "pino";
import { Runtime } from "../packages/runtime/src/runtime.js";
import { startGreeterServer } from "./greeter/server.js";

const { values: flags } = parseArgs({
  options: { "admin-port": { type: "string", default: process.env.SWITCHBOARD_ADMIN_PORT ?? "8099" } },
});
const functionsPort = Number(process.env.PORT ?? 8000);
const logger = pino(
  { level: process.env.SWITCHBOARD_LOG_LEVEL ?? "info", base: undefined },
  pino.destination(2),
);

/** A start that fails (a port taken) is one line, not a stack trace. */
async function orExit<T>(starting: Promise<T>): Promise<T> {
  try {
    return await starting;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}

const { server } = await orExit(startGreeterServer(functionsPort));
const runtime = await orExit(
  Runtime.start({
    modules: [new URL("./greeter/module.yaml", import.meta.url).pathname],
    dataDir: process.env.SWITCHBOARD_DATA_DIR ?? ".switchboard",
    adminPort: Number(flags["admin-port"]),
    logger,
  }),
);

console.log(`greeter functions  http://127.0.0.1:${functionsPort}`);
for (const ingress of runtime.ingresses)
  console.log(`ingress            ${ingress.url}/<namespace>/<name>/<id>`);
console.log(`admin (live page)  ${runtime.ops.adminUrl}/`);
console.log(`
Try it:
  curl -X POST -d alice http://127.0.0.1:8090/example/person/alice
  curl http://127.0.0.1:8091/greetings
Ctrl-C stops; state and queued messages survive in ./.switchboard.`);

const stop = async () => {
  await runtime.stop();
  server.close();
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
