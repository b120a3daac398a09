/**
 * `npm start`: the main job on the embedded defaults. Serves the greeter functions and runs
 * the Switchboard runtime on examples/greeter/module.yaml (store in ./.switchboard), so a
 * message posted to the ingress comes back as a greeting on the egress.
 */
import pino from "pino";
import { Runtime } from "../packages/runtime/src/runtime.js";
import { startGreeterServer } from "./greeter/server.js";

const functionsPort = Number(process.env.PORT ?? 8000);
const { server } = await startGreeterServer(functionsPort);
const logger = pino(
  { level: process.env.SWITCHBOARD_LOG_LEVEL ?? "info", base: undefined },
  pino.destination(2),
);
const runtime = await Runtime.start({
  modules: [new URL("./greeter/module.yaml", import.meta.url).pathname],
  dataDir: process.env.SWITCHBOARD_DATA_DIR ?? ".switchboard",
  adminPort: Number(process.env.SWITCHBOARD_ADMIN_PORT ?? 8099),
  logger,
});

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
