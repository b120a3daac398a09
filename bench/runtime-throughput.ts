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
import { loadGenerator, runLoad } from "./support/load.js";
import { type LoadResult, startServerProcess, stopProcess } from "./support/processes.js";
import { switchboardCell } from "./support/switchboard-cell.js";

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
    const sb = await switchboardCell(scenario.keys, concurrency, durationMs, durability);
    console.log(
      `| ${scenario.name} | ${concurrency} | ${fmt(oneHop.perSecond)} | ${fmt(twoHops.perSecond)} | ${fmt(sb.appliedPerSecond)} | ` +
        `${fmt(sb.appliedPerSecond / oneHop.perSecond, 2)} | ${fmt(sb.appliedPerSecond / twoHops.perSecond, 2)} | ` +
        `${fmt(sb.p50, 1)} / ${fmt(sb.p99, 1)} | ${fmt(sb.medianBatch)} | ${fmt(sb.load.p50, 1)} / ${fmt(sb.load.p99, 1)} | ${fmt(sb.cpu.machine)} |`,
    );
  }
}
