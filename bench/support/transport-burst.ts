/**
 * Hot-pool measurement, run as its own process against a loopback server:
 *   transport-burst.ts <url> <burst> <steadyMs> <bursts> <idleMs> <warm|cold>
 * warm: one transport throughout. Fill the pool, measure steady-state latency with <burst>
 * calls always in flight, then <bursts> times: idle <idleMs>, fire <burst> calls at once.
 * cold: the same bursts, each through a new transport (so every call pays a connect).
 * Prints JSON: latencies' p50/p99 and how many connections each phase opened.
 */
import { createTransport, type Transport } from "../../packages/runtime/src/transport/index.js";
import { benchOptions, percentile } from "./transport-options.js";

const [url = "", burstArg = "256", steadyArg = "3000", burstsArg = "10", idleArg = "2000", mode = "warm"] =
  process.argv.slice(2);
const burst = Number(burstArg);
const body = Buffer.from("hello, function");
// A TTL longer than a run: this measures idle gaps shorter than the TTL and keep-alive.
const options = benchOptions({ poolSize: burst, poolTtlMs: 60_000 });

function call(transport: Transport): Promise<number> {
  const started = performance.now();
  return transport.exchange({ url, method: "POST", body, options }, () => performance.now() - started);
}

function connects(transport: Transport): number {
  const [stats] = transport.stats();
  return stats ? stats.requests - stats.reusedConnections : 0;
}

async function closedLoop(transport: Transport, ms: number, into: number[]): Promise<void> {
  const until = performance.now() + ms;
  await Promise.all(
    Array.from({ length: burst }, async () => {
      while (performance.now() < until) into.push(await call(transport));
    }),
  );
}

async function fireBurst(transport: Transport, into: number[]): Promise<void> {
  into.push(...(await Promise.all(Array.from({ length: burst }, () => call(transport)))));
}

const summary = (latencies: number[]) => {
  latencies.sort((a, b) => a - b);
  return { calls: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
};

const bursts = Number(burstsArg);
const idleMs = Number(idleArg);
const burstLatencies: number[] = [];
let result: Record<string, unknown>;
if (mode === "cold") {
  let opened = 0;
  for (let i = 0; i < bursts; i++) {
    const transport = createTransport();
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    await fireBurst(transport, burstLatencies);
    opened += connects(transport);
    await transport.close();
  }
  result = { burst: summary(burstLatencies), burstConnects: opened };
} else {
  const transport = createTransport();
  await closedLoop(transport, 1000, []);
  const steadyLatencies: number[] = [];
  await closedLoop(transport, Number(steadyArg), steadyLatencies);
  const before = connects(transport);
  for (let i = 0; i < bursts; i++) {
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    await fireBurst(transport, burstLatencies);
  }
  result = {
    steady: summary(steadyLatencies),
    burst: summary(burstLatencies),
    poolConnections: before,
    burstConnects: connects(transport) - before,
  };
  await transport.close();
}
process.stdout.write(`${JSON.stringify(result)}\n`);
