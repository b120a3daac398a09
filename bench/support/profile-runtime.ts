/**
 * Runs the runtime-throughput switchboard cell once, in this process, and prints store and
 * dispatch counters (commits, units per commit, fsyncs/s). For profiling:
 *   node --conditions=development --import tsx --cpu-prof bench/support/profile-runtime.ts <keys> <c> <ms> [full|normal|postgres]
 * `postgres`: one cluster instance, alone, on a PostgreSQL database of its own (dropped after).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Runtime } from "../../packages/runtime/src/runtime.js";
import { createBenchDatabase } from "./bench-database.js";
import { runLoad } from "./load.js";
import { startServerProcess, stopProcess } from "./processes.js";
import { moduleYaml } from "./switchboard-cell.js";

const [keys = "1000", concurrency = "64", durationMs = "3000", durability = "full"] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), "switchboard-profile-"));
const fn = await startServerProcess("sdk-counter-server.ts");
const moduleFile = join(dir, "module.yaml");
writeFileSync(moduleFile, moduleYaml(fn.port));
const database = durability === "postgres" ? await createBenchDatabase("profile") : undefined;
const runtime = await Runtime.start({
  modules: [moduleFile],
  dataDir: join(dir, "data"),
  durability: durability === "normal" ? "normal" : "full",
  ...(database ? { store: database.url, cluster: { instanceId: "profile" } } : {}),
});
const ingress = runtime.ingresses[0];
if (!ingress) throw new Error("no ingress");
const started = Date.now();
const cpuBefore = process.cpuUsage();
const fnBefore = procCpuMs(fn.child.pid);
const machineBefore = machineBusyMs();
const load = await runLoad(
  `${ingress.url}/bench/counter`,
  Number(keys),
  Number(concurrency),
  Number(durationMs),
);
await runtime.dispatcher.settled();
const elapsed = Date.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const stats = runtime.dispatcher.stats();
const fnCpu = procCpuMs(fn.child.pid) - fnBefore;
const machine = machineBusyMs() - machineBefore;
const commits = runtime.backend.stats();
console.log(
  JSON.stringify(
    {
      load,
      appliedPerSecond: Math.round((stats.applied / elapsed) * 1000),
      commitsPerSecond: Math.round((commits.commits / elapsed) * 1000),
      unitsPerCommit: +(commits.units / commits.commits).toFixed(2),
      runtimeCpuMsPerMessage: +((cpu.user + cpu.system) / 1000 / stats.applied).toFixed(4),
      runtimeCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / elapsed) * 100),
      functionCpuMsPerMessage: +(fnCpu / stats.applied).toFixed(4),
      machineBusyMsPerMessage: +(machine / stats.applied).toFixed(4),
      machineBusyPercent: Math.round((machine / elapsed) * 100),
      batch: runtime.dispatcher.batchSizes.percentiles(50, 99),
      // Requests per connection opened: a pool that keeps reconnecting shows here.
      connections: runtime.transport.stats().map(({ origin, requests, reusedConnections }) => ({
        origin,
        requests,
        opened: requests - reusedConnections,
      })),
    },
    null,
    1,
  ),
);
await runtime.stop();
await stopProcess(fn.child);
await database?.drop();
rmSync(dir, { recursive: true, force: true });

/** utime + stime of a process in ms (from /proc, clock ticks of 10 ms). */
function procCpuMs(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Busy time of the whole machine in ms (all cores; iowait counted idle). */
function machineBusyMs(): number {
  const cpu =
    readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return (user + nice + system + irq + softirq + steal) * 10;
}
