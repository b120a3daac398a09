/**
 * A closed-loop HTTP load client that stays up between measurements, for benchmarks that
 * alternate short slices of load between servers so that every server sees the same mix of
 * machine states. Reads one JSON command per stdin line,
 *   {"port": 1234, "durationMs": 500, "concurrency": 32}
 * POSTs $BENCH_BODY_FILE (application/octet-stream) to http://127.0.0.1:<port>/counter/k0 for
 * that long and answers one JSON line {ok, errors, elapsedMs, latencies}. Connections to each
 * port are kept open from one slice to the next.
 */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { Pool } from "undici";

const body = readFileSync(process.env.BENCH_BODY_FILE ?? "");
const pools = new Map<number, Pool>();

async function slice(port: number, durationMs: number, concurrency: number) {
  let pool = pools.get(port);
  if (!pool) {
    pool = new Pool(`http://127.0.0.1:${port}`, { connections: concurrency, pipelining: 1 });
    pools.set(port, pool);
  }
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const sent = performance.now();
        try {
          const response = await (pool as Pool).request({
            path: "/counter/k0",
            method: "POST",
            headers: { "content-type": "application/octet-stream" },
            body,
          });
          await response.body.dump();
          if (response.statusCode === 200) latencies.push(performance.now() - sent);
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { ok: latencies.length, errors, elapsedMs: performance.now() - started, latencies };
}

for await (const line of createInterface({ input: process.stdin })) {
  const { port, durationMs, concurrency } = JSON.parse(line) as {
    port: number;
    durationMs: number;
    concurrency: number;
  };
  process.stdout.write(`${JSON.stringify(await slice(port, durationMs, concurrency))}\n`);
}
await Promise.all([...pools.values()].map((pool) => pool.close()));
