/**
 * Runs one PostgreSQL-backed instance (alone in its cluster) in this process under the
 * cluster-throughput load, on a database of its own, and prints what it cost per message.
 * For profiling where an instance's CPU goes:
 *   node --conditions=development --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/support/profile-cluster.ts <keys> <c> <ms>
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Runtime } from "../../packages/runtime/src/runtime.js";
import { createBenchDatabase } from "./bench-database.js";
import { runLoad } from "./load.js";
import { startServerProcess, stopProcess } from "./processes.js";

const [keys = "1000", concurrency = "64", durationMs = "5000"] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), "switchboard-profile-"));
const database = await createBenchDatabase("profile");
const fn = await startServerProcess("sdk-counter-server.ts");
const moduleFile = join(dir, "module.yaml");
writeFileSync(
  moduleFile,
  [
    "kind: io.statefun.endpoints.v2/http",
    "spec:",
    "  functions: bench/*",
    `  urlPathTemplate: http://127.0.0.1:${fn.port}/{function.name}`,
    "  transport:",
    "    type: io.statefun.transports.v1/async",
    "---",
    "kind: io.statefun.playground.v1/ingress",
    "spec: { port: 0 }",
    "",
  ].join("\n"),
);
const runtime = await Runtime.start({
  modules: [moduleFile],
  store: database.url,
  cluster: { instanceId: "profile" },
});
const ingress = runtime.ingresses[0];
if (!ingress) throw new Error("no ingress");
const started = Date.now();
const cpuBefore = process.cpuUsage();
const load = await runLoad(
  `${ingress.url}/bench/counter`,
  Number(keys),
  Number(concurrency),
  Number(durationMs),
);
await runtime.dispatcher.settled();
const elapsed = Date.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const { applied } = runtime.dispatcher.stats();
console.log(
  JSON.stringify({
    load,
    appliedPerSecond: Math.round((applied / elapsed) * 1000),
    cpuMsPerMessage: +((cpu.user + cpu.system) / 1000 / applied).toFixed(4),
    note: "the load generator runs in this process too: its CPU is included",
  }),
);
await runtime.stop();
await stopProcess(fn.child);
await database.drop();
rmSync(dir, { recursive: true, force: true });
