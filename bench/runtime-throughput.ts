/**
 * Ingress -> runtime -> SDK-served counter function -> durable state, against two baselines
 * measured in the same run: one plain HTTP hop (a server counting per key in memory) and two
 * hops (the same through an undici proxy). Scenarios: 1000 random keys and one hot key, at
 * several concurrencies. Reports messages fully applied per second (accepted by ingress and
 * committed to state), the accepted-to-applied latency, and how busy the whole machine was
 * (200 % = both cores) while the switchboard cell ran.
 *
 *   npm run bench -- runtime-throughput [durationMs=5000] [durability=full]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Runtime } from "../packages/runtime/src/runtime.js";
import { loadGenerator, runLoad } from "./support/load.js";
import { type LoadResult, startServerProcess, stopProcess } from "./support/processes.js";

const durationMs = Number(process.argv[2] ?? 5000);
const durability = process.argv[3] === "normal" ? "normal" : "full";
const scenarios = [
  { name: "1000 random keys", keys: 1000 },
  { name: "one hot key", keys: 1 },
];
const concurrencies = [16, 64, 256];

async function baseline(keys: number, concurrency: number, twoHops: boolean): Promise<LoadResult> {
  const plain = await startServerProcess("plain-counter-server.ts");
  const proxy = twoHops
    ? await startServerProcess("plain-counter-server.ts", [`http://127.0.0.1:${plain.port}`])
    : undefined;
  try {
    const port = proxy?.port ?? plain.port;
    return await runLoad(`http://127.0.0.1:${port}/bench/counter`, keys, concurrency, durationMs);
  } finally {
    if (proxy) await stopProcess(proxy.child);
    await stopProcess(plain.child);
  }
}

async function switchboard(keys: number, concurrency: number) {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-bench-"));
  const fn = await startServerProcess("sdk-counter-server.ts");
  const ingressPort = 18000 + Math.floor(Math.random() * 1000);
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
      `spec: { port: ${ingressPort} }`,
      "",
    ].join("\n"),
  );
  const runtime = await Runtime.start({ modules: [moduleFile], dataDir: join(dir, "data"), durability });
  try {
    const started = Date.now();
    const busyBefore = machineBusyMs();
    const load = await runLoad(
      `http://127.0.0.1:${ingressPort}/bench/counter`,
      keys,
      concurrency,
      durationMs,
    );
    await runtime.dispatcher.settled();
    const drainedMs = Date.now() - started;
    const busyPercent = ((machineBusyMs() - busyBefore) / drainedMs) * 100;
    const [p50, p99] = runtime.dispatcher.applyLatency.percentiles(50, 99);
    const [meanBatch] = runtime.dispatcher.batchSizes.percentiles(50);
    const stats = runtime.dispatcher.stats();
    return {
      load,
      appliedPerSecond: (stats.applied / drainedMs) * 1000,
      applied: stats.applied,
      p50,
      p99,
      meanBatch,
      busyPercent,
    };
  } finally {
    await runtime.stop();
    await stopProcess(fn.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? "-" : n.toFixed(digits);
console.log(
  `runtime-throughput: ${durationMs} ms per cell, durability=${durability}, load from ${loadGenerator()}, node ${process.version}`,
);
console.log(
  "| scenario | c | one hop req/s | two hops req/s | switchboard applied/s | vs one hop | vs two hops | accept->applied p50 / p99 ms | median batch | ingress p50 / p99 ms | machine busy % |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const scenario of scenarios) {
  for (const concurrency of concurrencies) {
    const oneHop = await baseline(scenario.keys, concurrency, false);
    const twoHops = await baseline(scenario.keys, concurrency, true);
    const sb = await switchboard(scenario.keys, concurrency);
    console.log(
      `| ${scenario.name} | ${concurrency} | ${fmt(oneHop.perSecond)} | ${fmt(twoHops.perSecond)} | ${fmt(sb.appliedPerSecond)} | ` +
        `${fmt(sb.appliedPerSecond / oneHop.perSecond, 2)} | ${fmt(sb.appliedPerSecond / twoHops.perSecond, 2)} | ` +
        `${fmt(sb.p50, 1)} / ${fmt(sb.p99, 1)} | ${fmt(sb.meanBatch)} | ${fmt(sb.load.p50, 1)} / ${fmt(sb.load.p99, 1)} | ${fmt(sb.busyPercent)} |`,
    );
  }
}

/**
 * Busy time of the whole machine in ms (all cores, from /proc/stat; iowait counts as idle).
 * Printed per cell because other work on a shared machine changes what a cell can reach.
 */
function machineBusyMs(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1) ?? [];
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields.map(Number);
  return (user + nice + system + irq + softirq + steal) * 10;
}
