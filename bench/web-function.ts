/**
 * A web function (JSON in, zod-validated, JSON out) served by the host against a bare
 * node:http handler doing the same work, in the same run with rotating order:
 * requests/s at concurrency `c`, and p50/p99 latency at concurrency 1.
 *
 *   npm run bench -- web-function [durationMs=5000] [concurrency=32] [workers=2] [rounds=4]
 *
 * "host" is the host as it runs on this Node: where sockets can share a port (Node >= 22.12
 * on Linux) its workers serve requests themselves; "main" is the host forced onto the
 * main-thread path (SWITCHBOARD_WEB_IN_WORKERS=0), which hops each request to a worker. On
 * Node 20 both are the main-thread path. On a shared machine the load on the other side
 * changes between runs, so it reports the median over rounds as well as the mean.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reusePortSupported } from "../packages/runtime/src/host/reuse-port.js";
import { loadGenerator, runLoad } from "./support/load.js";
import { type LoadResult, startServerProcess, stopProcess } from "./support/processes.js";

const durationMs = Number(process.argv[2] ?? 5000);
const concurrency = Number(process.argv[3] ?? 32);
const workers = Number(process.argv[4] ?? 2);
const rounds = Number(process.argv[5] ?? 4);
const bodyFile = join(tmpdir(), `switchboard-web-bench-${process.pid}.json`);
writeFileSync(bodyFile, JSON.stringify({ item: "tea", quantity: 3 }));
process.env.BENCH_BODY_FILE = bodyFile;

const MODULE = new URL("./support/web-bench-module.ts", import.meta.url).pathname;

type Side = "bare" | "host" | "main";

async function measure(which: Side): Promise<{ load: LoadResult; latency: LoadResult }> {
  const server =
    which === "bare"
      ? await startServerProcess("bare-web-server.ts")
      : await startServerProcess("host-server.ts", [MODULE, String(workers)], {
          ...process.env,
          ...(which === "main" ? { SWITCHBOARD_WEB_IN_WORKERS: "0" } : {}),
        });
  const url = `http://127.0.0.1:${server.port}/functions/price`;
  const run = (c: number, ms: number) => runLoad(url, 1, c, ms, "application/json");
  try {
    await run(concurrency, 1000);
    const load = await run(concurrency, durationMs);
    const latency = await run(1, Math.max(1000, durationMs / 2));
    return { load, latency };
  } finally {
    await stopProcess(server.child);
  }
}

const inWorkers = await reusePortSupported();
console.log(
  `web-function: ${durationMs} ms per run, c=${concurrency}, ${workers} workers, load from ${loadGenerator()}, node ${process.version}, host path: ${inWorkers ? "workers (reusePort)" : "main thread (no reusePort)"}`,
);
console.log(
  "| round | bare req/s | host req/s | host / bare | main-path req/s | main / bare | bare p50 / p99 ms (c=1) | host p50 / p99 ms (c=1) | main p50 / p99 ms (c=1) | added p50 ms (host) | host p99 ms (c) | errors |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
const ratios: number[] = [];
const mainRatios: number[] = [];
const added: number[] = [];
const orders: Side[][] = [
  ["bare", "host", "main"],
  ["main", "bare", "host"],
  ["host", "main", "bare"],
];
for (let round = 1; round <= rounds; round++) {
  const results: Partial<Record<Side, { load: LoadResult; latency: LoadResult }>> = {};
  for (const which of orders[(round - 1) % orders.length] as Side[]) results[which] = await measure(which);
  const { bare, host, main } = results as Record<Side, { load: LoadResult; latency: LoadResult }>;
  const ratio = host.load.perSecond / bare.load.perSecond;
  const mainRatio = main.load.perSecond / bare.load.perSecond;
  const addedP50 = host.latency.p50 - bare.latency.p50;
  ratios.push(ratio);
  mainRatios.push(mainRatio);
  added.push(addedP50);
  const errors = [bare, host, main].reduce((sum, side) => sum + side.load.errors + side.latency.errors, 0);
  const p = (side: { latency: LoadResult }) =>
    `${side.latency.p50.toFixed(2)} / ${side.latency.p99.toFixed(2)}`;
  console.log(
    `| ${round} | ${bare.load.perSecond.toFixed(0)} | ${host.load.perSecond.toFixed(0)} | ${ratio.toFixed(2)} | ${main.load.perSecond.toFixed(0)} | ${mainRatio.toFixed(2)} | ${p(bare)} | ${p(host)} | ${p(main)} | ${addedP50.toFixed(2)} | ${host.load.p99.toFixed(1)} | ${errors} |`,
  );
}
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
console.log(
  `\nhost / bare: median ${median(ratios).toFixed(2)}, mean ${mean(ratios).toFixed(2)}; main-path / bare: median ${median(mainRatios).toFixed(2)}, mean ${mean(mainRatios).toFixed(2)}; added p50 (host): median ${median(added).toFixed(2)} ms (goal <= 0.5)`,
);
