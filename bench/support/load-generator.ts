/**
 * A closed-loop HTTP load generator, run as its own process so it does not share an event
 * loop with what it measures. Usage (JSON on stdout when done):
 *   load-generator.ts <baseUrl> <keys> <concurrency> <durationMs> [contentType] [pathSuffix]
 * Each request POSTs to <baseUrl>/<key><pathSuffix> with key = "k<n>" chosen uniformly among <keys>.
 * The body is a sequence number, or the bytes of $BENCH_BODY_FILE when set. With $BENCH_START_AT
 * (epoch ms) the load starts at that time, so several generators started together begin at once
 * whatever their own start-up took; the JSON then says when it did start (startedAt).
 */
import { readFileSync } from "node:fs";
import { Pool } from "undici";

const [
  baseUrl = "",
  keysArg = "1",
  concurrencyArg = "1",
  durationArg = "1000",
  contentType = "text/plain",
  pathSuffix = "",
] = process.argv.slice(2);
const keys = Number(keysArg);
const concurrency = Number(concurrencyArg);
const durationMs = Number(durationArg);
const url = new URL(baseUrl);
const pool = new Pool(url.origin, { connections: concurrency, pipelining: 1 });
// A fixed body (e.g. a protocol request) instead of a sequence number, when given.
const fixedBody = process.env.BENCH_BODY_FILE ? readFileSync(process.env.BENCH_BODY_FILE) : undefined;

const startAt = Number(process.env.BENCH_START_AT ?? 0);
if (startAt > Date.now()) await new Promise((resolve) => setTimeout(resolve, startAt - Date.now()));

const counts = { ok: 0, rejected: 0, errors: 0 };
const latencies: number[] = [];
const deadline = Date.now() + durationMs;
let seq = 0;

async function worker(): Promise<void> {
  while (Date.now() < deadline) {
    const key = keys === 1 ? "k0" : `k${Math.floor(Math.random() * keys)}`;
    const started = performance.now();
    try {
      const response = await pool.request({
        path: `${url.pathname.replace(/\/$/, "")}/${key}${pathSuffix}`,
        method: "POST",
        headers: { "content-type": contentType },
        body: fixedBody ?? String(seq++),
      });
      await response.body.dump();
      if (response.statusCode < 300) {
        counts.ok++;
        latencies.push(performance.now() - started);
      } else if (response.statusCode === 429 || response.statusCode === 503) {
        counts.rejected++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      } else {
        counts.errors++;
      }
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
  `${JSON.stringify({ ...counts, startedAt: started, elapsedMs, perSecond: (counts.ok / elapsedMs) * 1000, p50: pct(50), p99: pct(99) })}\n`,
);
