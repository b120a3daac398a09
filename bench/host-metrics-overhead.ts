/**
 * What the function host's and the cache's metrics cost per web request, against two
 * baselines in the same run: nothing (a plain increment: the loop's own cost) and
 * prom-client's labelled Histogram.observe with the status class built per request (the
 * straightforward way, which Metrics used before the host fed it).
 *
 *   npm run bench -- host-metrics-overhead [timeMs=1500]
 *
 * One "request" is what the host records for a web request that makes one cache lookup:
 * a web latency observation (route, status class) and a cache hit or miss.
 */
import { Histogram, Registry } from "prom-client";
import { Bench } from "tinybench";
import { Metrics } from "../packages/runtime/src/ops/metrics.js";

const time = Number(process.argv[2] ?? 1500);
const ROUTES = ["quote", "search", "profile", "health"];
const STATUSES = [200, 200, 200, 404];

const metrics = new Metrics({ defaultMetrics: false });
const registry = new Registry();
const naive = new Histogram({
  name: "naive_seconds",
  help: "h",
  labelNames: ["route", "status"],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  registers: [registry],
});
let plain = 0;
let i = 0;

const bench = new Bench({ time });
bench
  .add("baseline: a plain counter", () => {
    plain++;
    i++;
  })
  .add("prom-client Histogram.observe per request", () => {
    const n = i++ & 3;
    naive.observe(
      { route: ROUTES[n] as string, status: `${Math.floor((STATUSES[n] as number) / 100)}xx` },
      0.004,
    );
  })
  .add("switchboard host metrics per request", () => {
    const n = i++ & 3;
    metrics.observeWebRequest(ROUTES[n] as string, STATUSES[n] as number, 0.004);
    metrics.cacheLookup("memory", (n & 1) === 0);
  });
await bench.run();

const nsPerOp = (name: string) => {
  const task = bench.tasks.find((candidate) => candidate.name === name);
  const result = task?.result as { latency?: { mean: number }; mean?: number } | undefined;
  return (result?.latency?.mean ?? result?.mean ?? Number.NaN) * 1e6;
};
const base = nsPerOp("baseline: a plain counter");
const prom = nsPerOp("prom-client Histogram.observe per request");
const ours = nsPerOp("switchboard host metrics per request");
console.log(`Node ${process.version}, ${time} ms per task (plain=${plain})`);
console.log("| per request | ns |");
console.log("| --- | --- |");
console.log(`| baseline: a plain counter | ${base.toFixed(1)} |`);
console.log(`| prom-client Histogram.observe (web latency only) | ${prom.toFixed(1)} |`);
console.log(`| switchboard (web latency + one cache lookup) | ${ours.toFixed(1)} |`);
console.log(`switchboard / prom-client: ${(ours / prom).toFixed(2)}`);
console.log(`switchboard added cost per request: ${(ours - base).toFixed(1)} ns`);
