/**
 * Closed-loop load through the switchboard transport or through a raw undici Pool, run as
 * its own process. Both POST the same small body and read the whole reply. JSON on stdout:
 *   transport-load.ts <transport|undici> <url> <concurrency> <durationMs>
 */
import { Pool } from "undici";
import { createTransport } from "../../packages/runtime/src/transport/index.js";
import { benchOptions, percentile } from "./transport-options.js";

const [mode = "transport", url = "", concurrencyArg = "32", durationArg = "3000"] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const durationMs = Number(durationArg);
const body = Buffer.from("hello, function");
const target = new URL(url);

type Send = () => Promise<number>;

function viaTransport(): { send: Send; close: () => Promise<void> } {
  const transport = createTransport();
  const options = benchOptions({ poolSize: concurrency });
  return {
    send: () =>
      transport.exchange({ url, method: "POST", body, options }, (response) => response.body.length),
    close: () => transport.close(),
  };
}

function viaUndici(): { send: Send; close: () => Promise<void> } {
  const pool = new Pool(target.origin, { connections: concurrency, pipelining: 1 });
  return {
    send: async () => {
      const response = await pool.request({ path: target.pathname, method: "POST", body });
      return (await response.body.arrayBuffer()).byteLength;
    },
    close: () => pool.close(),
  };
}

const client = mode === "undici" ? viaUndici() : viaTransport();
const latencies: number[] = [];
let errors = 0;
const deadline = performance.now() + durationMs;

async function worker(): Promise<void> {
  while (performance.now() < deadline) {
    const started = performance.now();
    try {
      await client.send();
      latencies.push(performance.now() - started);
    } catch {
      errors++;
    }
  }
}

const started = performance.now();
const cpuBefore = process.cpuUsage();
await Promise.all(Array.from({ length: concurrency }, () => worker()));
const elapsedMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
await client.close();
latencies.sort((a, b) => a - b);
process.stdout.write(
  `${JSON.stringify({
    ok: latencies.length,
    rejected: 0,
    errors,
    elapsedMs,
    perSecond: (latencies.length / elapsedMs) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    // CPU the client spent per call: less sensitive than req/s to other work on the cores.
    cpuMicrosPerCall: (cpu.user + cpu.system) / Math.max(1, latencies.length),
  })}\n`,
);
