/**
 * One Switchboard cell of the throughput benchmarks: the runtime in this process with `full` or
 * `normal` durability, the SDK counter (bench/support/sdk-counter-server.ts) in its own process,
 * closed-loop load on the playground ingress, then a wait until every accepted message has been
 * applied. applied/s counts over the whole time, drain included. An optional warm-up load runs
 * and drains first, unmeasured, so the JIT has compiled the hot paths of both Node processes.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Runtime } from "../../packages/runtime/src/runtime.js";
import { cpuPercentSince, cpuSnapshot } from "./cpu-time.js";
import { runLoad } from "./load.js";
import { type LoadResult, startServerProcess, stopProcess } from "./processes.js";

export interface SwitchboardCell {
  load: LoadResult;
  applied: number;
  appliedPerSecond: number;
  /** accepted -> applied latency, ms */
  p50: number | undefined;
  p99: number | undefined;
  medianBatch: number | undefined;
  /** % of one core: the runtime (this process) and the function server; machine: 200 % = both cores */
  cpu: { machine: number; processes: Record<string, number> };
}

export async function switchboardCell(
  keys: number,
  concurrency: number,
  durationMs: number,
  durability: "full" | "normal",
  warmupMs = 0,
): Promise<SwitchboardCell> {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-bench-"));
  const fn = await startServerProcess("sdk-counter-server.ts");
  try {
    const moduleFile = join(dir, "module.yaml");
    writeFileSync(moduleFile, moduleYaml(fn.port));
    const runtime = await Runtime.start({ modules: [moduleFile], dataDir: join(dir, "data"), durability });
    try {
      const ingress = runtime.ingresses[0];
      if (!ingress) throw new Error("the bench module declares no ingress");
      const url = `${ingress.url}/bench/counter`;
      if (warmupMs > 0) {
        await runLoad(url, keys, concurrency, warmupMs);
        await runtime.dispatcher.settled();
      }
      const appliedBefore = runtime.dispatcher.stats().applied;
      const pids = { runtime: process.pid, function: fn.child.pid };
      const before = cpuSnapshot(pids);
      const load = await runLoad(url, keys, concurrency, durationMs);
      await runtime.dispatcher.settled();
      const cpu = cpuPercentSince(before, pids);
      const drainedMs = Date.now() - before.at;
      const [p50, p99] = runtime.dispatcher.applyLatency.percentiles(50, 99);
      const [medianBatch] = runtime.dispatcher.batchSizes.percentiles(50);
      const applied = runtime.dispatcher.stats().applied - appliedBefore;
      return { load, applied, appliedPerSecond: (applied / drainedMs) * 1000, p50, p99, medianBatch, cpu };
    } finally {
      await runtime.stop();
    }
  } finally {
    await stopProcess(fn.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** bench/* on the function server at `functionPort` (async transport profile), and a playground ingress on a free port. */
export function moduleYaml(functionPort: number): string {
  return [
    "kind: io.statefun.endpoints.v2/http",
    "spec:",
    "  functions: bench/*",
    `  urlPathTemplate: http://127.0.0.1:${functionPort}/{function.name}`,
    "  transport:",
    "    type: io.statefun.transports.v1/async",
    "---",
    "kind: io.statefun.playground.v1/ingress",
    "spec: { port: 0 }",
    "",
  ].join("\n");
}
