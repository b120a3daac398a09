/**
 * The pass-through proxy (examples/proxy) relaying 1 MiB responses, against nginx's
 * proxy_pass (buffering off) to the same origin, in the same run with alternating order:
 * requests/s, MiB/s, latency and peak memory of the proxy process(es).
 *
 *   npm run bench -- proxy [durationMs=5000] [concurrency=16] [bodyBytes=1048576] [workers=1] [rounds=2]
 */

import { peakRss, startNginx } from "./support/nginx-proxy.js";
import { type LoadResult, runJsonProcess, startServerProcess, stopProcess } from "./support/processes.js";

const durationMs = Number(process.argv[2] ?? 5000);
const concurrency = Number(process.argv[3] ?? 16);
const bodyBytes = Number(process.argv[4] ?? 1024 * 1024);
const workers = Number(process.argv[5] ?? 1);
const rounds = Number(process.argv[6] ?? 2);
const PROXY_MODULE = new URL("../examples/proxy/functions.ts", import.meta.url).pathname;

type Result = LoadResult & { mibPerSecond: number; peakBytes: number; idleBytes: number };

const origin = await startServerProcess("blob-server.ts", [String(bodyBytes)]);

async function measure(which: "nginx" | "host"): Promise<Result> {
  const server =
    which === "nginx"
      ? await startNginx(origin.port, 2)
      : await startServerProcess("host-server.ts", [
          PROXY_MODULE,
          String(workers),
          `upstreams: { origin: { url: "http://127.0.0.1:${origin.port}" } }\noutbound: { timeout: 10min }`,
        ]);
  const url = `http://127.0.0.1:${server.port}${which === "host" ? "/functions/proxy" : ""}/blob`;
  const run = (ms: number) =>
    runJsonProcess<LoadResult & { mibPerSecond: number }>("read-load-generator.ts", [
      url,
      String(concurrency),
      String(ms),
    ]);
  try {
    const idleBytes = peakRss(server.child.pid as number);
    await run(1000);
    const result = await run(durationMs);
    return { ...result, idleBytes, peakBytes: peakRss(server.child.pid as number) };
  } finally {
    await stopProcess(server.child);
  }
}

console.log(
  `proxy: ${bodyBytes} byte bodies, ${durationMs} ms per run, c=${concurrency}, host workers ${workers}, node ${process.version}`,
);
console.log(
  "| round | nginx req/s | host req/s | host / nginx | nginx MiB/s | host MiB/s | nginx p50 / p99 ms | host p50 / p99 ms | nginx idle / peak MB | host idle / peak MB | errors |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
const ratios: number[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? (["nginx", "host"] as const) : (["host", "nginx"] as const);
    const results: Partial<Record<"nginx" | "host", Result>> = {};
    for (const which of order) results[which] = await measure(which);
    const nginx = results.nginx as Result;
    const host = results.host as Result;
    const ratio = host.perSecond / nginx.perSecond;
    ratios.push(ratio);
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
    console.log(
      `| ${round} | ${nginx.perSecond.toFixed(0)} | ${host.perSecond.toFixed(0)} | ${ratio.toFixed(2)} | ${nginx.mibPerSecond.toFixed(0)} | ${host.mibPerSecond.toFixed(0)} | ${nginx.p50.toFixed(1)} / ${nginx.p99.toFixed(1)} | ${host.p50.toFixed(1)} / ${host.p99.toFixed(1)} | ${mb(nginx.idleBytes)} / ${mb(nginx.peakBytes)} | ${mb(host.idleBytes)} / ${mb(host.peakBytes)} | ${nginx.errors + host.errors} |`,
    );
  }
} finally {
  await stopProcess(origin.child);
}
const sorted = [...ratios].sort((a, b) => a - b);
const middle = Math.floor(sorted.length / 2);
const median =
  sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
console.log(
  `\nhost / nginx: median ${median.toFixed(2)}, mean ${(ratios.reduce((a, b) => a + b, 0) / ratios.length).toFixed(2)} (goal >= 0.7)`,
);
