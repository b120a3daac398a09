/**
 * Like load-generator.ts, but reads every response body to its end (undici's dump() gives up
 * on large bodies and drops the connection), and reports bytes received.
 *   read-load-generator.ts <url> <concurrency> <durationMs>
 */
import { Pool } from "undici";

const [target = "", concurrencyArg = "1", durationArg = "1000"] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const url = new URL(target);
const pool = new Pool(url.origin, { connections: concurrency, pipelining: 1 });
const counts = { ok: 0, errors: 0, bytes: 0 };
const latencies: number[] = [];
const deadline = Date.now() + Number(durationArg);

async function worker(): Promise<void> {
  while (Date.now() < deadline) {
    const started = performance.now();
    try {
      const response = await pool.request({ path: url.pathname + url.search, method: "POST", body: "x" });
      let bytes = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) bytes += chunk.length;
      if (response.statusCode === 200) {
        counts.ok++;
        counts.bytes += bytes;
        latencies.push(performance.now() - started);
      } else counts.errors++;
    } catch {
      counts.errors++;
    }
  }
}

const started = Date.now();
await Promise.all(Array.from({ length: concurrency }, () => worker()));
const elapsedMs = Date.now() - started;
await pool.close();
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
process.stdout.write(
  `${JSON.stringify({ ...counts, rejected: 0, elapsedMs, perSecond: (counts.ok / elapsedMs) * 1000, mibPerSecond: counts.bytes / 1048576 / (elapsedMs / 1000), p50: pct(50), p99: pct(99) })}\n`,
);
