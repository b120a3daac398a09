/**
 * The pass-through proxy (examples/proxy) relaying 1 MiB responses, against nginx's
 * proxy_pass (buffering off) to the same origin, in the same run with alternating order:
 * requests/s, MiB/s, latency and peak memory of the proxy process(es). Where Node can share
 * a port (>= 22.12 on Linux) "host" is the worker path and "main" the host forced onto the
 * main-thread path (SWITCHBOARD_WEB_IN_WORKERS=0) in the same rounds; on Node 20 there is
 * only the main path, so "main" is left out.
 *
 *   npm run bench -- proxy [durationMs=5000] [concurrency=16] [bodyBytes=1048576] [workers=1] [rounds=2]
 */

import { reusePortSupported } from "../packages/runtime/src/host/reuse-port.js";
import { peakRss, startNginx } from "./support/nginx-proxy.js";
import { type LoadResult, runJsonProcess, startServerProcess, stopProcess } from "./support/processes.js";

const durationMs = Number(process.argv[2] ?? 5000);
const concurrency = Number(process.argv[3] ?? 16);
const bodyBytes = Number(process.argv[4] ?? 1024 * 1024);
const workers = Number(process.argv[5] ?? 1);
const rounds = Number(process.argv[6] ?? 2);
const PROXY_MODULE = new URL("../examples/proxy/functions.ts", import.meta.url).pathname;

type Side = "nginx" | "host" | "main";
type Result = LoadResult & { mibPerSecond: number; peakBytes: number; idleBytes: number };

const origin = await startServerProcess("blob-server.ts", [String(bodyBytes)]);

async function measure(which: Side): Promise<Result> {
  const server =
    which === "nginx"
      ? await startNginx(origin.port, 2)
      : await startServerProcess(
          "host-server.ts",
          [
            PROXY_MODULE,
            String(workers),
            `upstreams: { origin: { url: "http://127.0.0.1:${origin.port}" } }\noutbound: { timeout: 10min }`,
          ],
          {
            ...process.env,
            ...(which === "main" ? { SWITCHBOARD_WEB_IN_WORKERS: "0" } : {}),
          },
        );
  const url = `http://127.0.0.1:${server.port}${which === "nginx" ? "" : "/functions/proxy"}/blob`;
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

const withMain = await reusePortSupported();
console.log(
  `proxy: ${bodyBytes} byte bodies, ${durationMs} ms per run, c=${concurrency}, host workers ${workers}, node ${process.version}, host path: ${withMain ? "workers (main path measured too)" : "main thread"}`,
);
console.log(
  "| round | nginx req/s | host req/s | host / nginx | main / nginx | nginx MiB/s | host MiB/s | nginx p50 / p99 ms | host p50 / p99 ms | nginx idle / peak MB | host idle / peak MB | main idle / peak MB | errors |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
const ratios: number[] = [];
const mainRatios: number[] = [];
const orders: Side[][] = withMain
  ? [
      ["nginx", "host", "main"],
      ["main", "nginx", "host"],
      ["host", "main", "nginx"],
    ]
  : [
      ["nginx", "host"],
      ["host", "nginx"],
    ];
try {
  for (let round = 1; round <= rounds; round++) {
    const results: Partial<Record<Side, Result>> = {};
    for (const which of orders[(round - 1) % orders.length] as Side[]) results[which] = await measure(which);
    const nginx = results.nginx as Result;
    const host = results.host as Result;
    const main = results.main;
    const ratio = host.perSecond / nginx.perSecond;
    ratios.push(ratio);
    if (main) mainRatios.push(main.perSecond / nginx.perSecond);
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
    console.log(
      `| ${round} | ${nginx.perSecond.toFixed(0)} | ${host.perSecond.toFixed(0)} | ${ratio.toFixed(2)} | ${main ? (main.perSecond / nginx.perSecond).toFixed(2) : "-"} | ${nginx.mibPerSecond.toFixed(0)} | ${host.mibPerSecond.toFixed(0)} | ${nginx.p50.toFixed(1)} / ${nginx.p99.toFixed(1)} | ${host.p50.toFixed(1)} / ${host.p99.toFixed(1)} | ${mb(nginx.idleBytes)} / ${mb(nginx.peakBytes)} | ${mb(host.idleBytes)} / ${mb(host.peakBytes)} | ${main ? `${mb(main.idleBytes)} / ${mb(main.peakBytes)}` : "-"} | ${nginx.errors + host.errors + (main?.errors ?? 0)} |`,
    );
  }
} finally {
  await stopProcess(origin.child);
}
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
console.log(
  `\nhost / nginx: median ${median(ratios).toFixed(2)}, mean ${(ratios.reduce((a, b) => a + b, 0) / ratios.length).toFixed(2)} (goal >= 0.9)`,
);
if (mainRatios.length > 0) console.log(`main path / nginx: median ${median(mainRatios).toFixed(2)}`);
