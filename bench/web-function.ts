/**
 * A web function (JSON in, zod-validated, JSON out) served by the host against a bare
 * node:http handler doing the same work, in the same run with alternating order:
 * requests/s at concurrency `c`, and p50/p99 latency at concurrency 1.
 *
 *   npm run bench -- web-function [durationMs=5000] [concurrency=32] [workers=2] [rounds=4]
 *
 * On a shared machine the load on the other side changes between runs, so it reports the
 * median over rounds as well as the mean.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

async function measure(which: "bare" | "host"): Promise<{ load: LoadResult; latency: LoadResult }> {
  const server =
    which === "bare"
      ? await startServerProcess("bare-web-server.ts")
      : await startServerProcess("host-server.ts", [MODULE, String(workers)]);
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

console.log(
  `web-function: ${durationMs} ms per run, c=${concurrency}, ${workers} workers, load from ${loadGenerator()}, node ${process.version}`,
);
console.log(
  "| round | bare req/s | host req/s | host / bare | bare p50 / p99 ms (c=1) | host p50 / p99 ms (c=1) | added p50 ms | host p99 ms (c) | errors |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
const ratios: number[] = [];
const added: number[] = [];
for (let round = 1; round <= rounds; round++) {
  const order = round % 2 === 1 ? (["bare", "host"] as const) : (["host", "bare"] as const);
  const results: Partial<Record<"bare" | "host", { load: LoadResult; latency: LoadResult }>> = {};
  for (const which of order) results[which] = await measure(which);
  const bare = results.bare as { load: LoadResult; latency: LoadResult };
  const host = results.host as { load: LoadResult; latency: LoadResult };
  const ratio = host.load.perSecond / bare.load.perSecond;
  const addedP50 = host.latency.p50 - bare.latency.p50;
  ratios.push(ratio);
  added.push(addedP50);
  console.log(
    `| ${round} | ${bare.load.perSecond.toFixed(0)} | ${host.load.perSecond.toFixed(0)} | ${ratio.toFixed(2)} | ${bare.latency.p50.toFixed(2)} / ${bare.latency.p99.toFixed(2)} | ${host.latency.p50.toFixed(2)} / ${host.latency.p99.toFixed(2)} | ${addedP50.toFixed(2)} | ${host.load.p99.toFixed(1)} | ${bare.load.errors + host.load.errors + bare.latency.errors + host.latency.errors} |`,
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
  `\nhost / bare: median ${median(ratios).toFixed(2)}, mean ${mean(ratios).toFixed(2)} (goal >= 0.5); added p50: median ${median(added).toFixed(2)} ms (goal <= 0.5)`,
);
