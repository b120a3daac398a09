/**
 * What metrics cost on the hot path, per message, against two baselines in the same run:
 * nothing (the dispatcher's own counter increment) and the straightforward alternative of
 * calling prom-client's labelled Counter.inc for every message.
 *
 *   npm run bench -- ops-overhead [timeMs=1500]
 *
 * One "message" is what the runtime does per message of an applied batch of 8: an accept
 * count, and per batch an applied count, an invocation latency and batch-size observation
 * and a commit observation, spread over the batch.
 */
import { Counter, Registry } from "prom-client";
import { Bench } from "tinybench";
import { Metrics } from "../packages/runtime/src/ops/metrics.js";

const time = Number(process.argv[2] ?? 1500);
const FUNCTION_TYPES = ["bench/a", "bench/b", "bench/c", "bench/d"];
const BATCH = 8;

const metrics = new Metrics({ defaultMetrics: false });
const registry = new Registry();
const naive = new Counter({
  name: "naive_total",
  help: "h",
  labelNames: ["function_type"],
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
  .add("prom-client Counter.inc per message", () => {
    naive.inc({ function_type: FUNCTION_TYPES[i++ & 3] as string });
  })
  .add("switchboard metrics per message", () => {
    const fn = FUNCTION_TYPES[i++ & 3] as string;
    metrics.accepted(fn);
    if ((i & (BATCH - 1)) === 0) {
      metrics.applied(fn, BATCH);
      metrics.observeInvocation("bench/*", 0.002, BATCH, true);
      metrics.observeCommit(BATCH, 0.001);
    }
  });
await bench.run();

const nsPerOp = (name: string) => {
  const task = bench.tasks.find((candidate) => candidate.name === name);
  const result = task?.result as { latency?: { mean: number }; mean?: number } | undefined;
  return (result?.latency?.mean ?? result?.mean ?? Number.NaN) * 1e6;
};
const base = nsPerOp("baseline: a plain counter");
const prom = nsPerOp("prom-client Counter.inc per message");
const ours = nsPerOp("switchboard metrics per message");
console.log(`Node ${process.version}, ${time} ms per task (plain=${plain})`);
console.log("| per message | ns |");
console.log("| --- | --- |");
console.log(`| baseline: a plain counter | ${base.toFixed(1)} |`);
console.log(`| prom-client Counter.inc with a label | ${prom.toFixed(1)} |`);
console.log(`| switchboard metrics (accept + 1/8 of a batch's observations) | ${ours.toFixed(1)} |`);
console.log(`switchboard / prom-client per-message inc: ${(ours / prom).toFixed(2)}`);
console.log(`switchboard added cost per message: ${(ours - base).toFixed(1)} ns`);
