/**
 * Throughput and latency of Cache.get, in memory and on Redis, against the baselines a user
 * would otherwise write: a bare lru-cache get, and a raw ioredis GET of the same stored
 * strings on the same Redis (ioredis defaults plus auto-pipelining, which the Cache's client
 * also uses). Closed loop: `concurrency` callers each awaiting one get at a time over 1000
 * pre-filled keys. "CPU us/get" is this process's CPU time per get, steadier than gets/s
 * when other work shares the machine.
 *
 *   npm run bench -- cache-get [durationMs=3000] [concurrency=64] [valueBytes=100] [rounds=4] [redisUrl=redis://127.0.0.1:6379]
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import { Cache } from "../packages/runtime/src/cache/cache.js";
import { MemoryCacheBackend } from "../packages/runtime/src/cache/memory-backend.js";
import { RedisCacheBackend } from "../packages/runtime/src/cache/redis-backend.js";

const durationMs = Number(process.argv[2] ?? 3000);
const concurrency = Number(process.argv[3] ?? 64);
const valueBytes = Number(process.argv[4] ?? 100);
const rounds = Number(process.argv[5] ?? 4);
const redisUrl = process.argv[6] ?? "redis://127.0.0.1:6379";
const KEYS = 1000;
const namespace = `switchboard-bench:${process.pid}:${randomBytes(3).toString("hex")}:`;
const value = randomBytes(valueBytes);

interface Result {
  readonly opsPerSecond: number;
  readonly cpuMicrosPerOp: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Runs `get(key)` from `concurrency` closed loops for `ms`, recording every call's latency. */
async function measure(get: (key: string) => Promise<unknown>, ms: number): Promise<Result> {
  const latencies: number[] = [];
  const deadline = performance.now() + ms;
  let ops = 0;
  const loop = async (worker: number) => {
    for (let i = worker; performance.now() < deadline; i += concurrency) {
      const started = performance.now();
      if ((await get(`k${i % KEYS}`)) === undefined) throw new Error("benchmark key missing");
      latencies.push(performance.now() - started);
      ops++;
    }
  };
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, (_, worker) => loop(worker)));
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0;
  return {
    opsPerSecond: (ops / elapsed) * 1000,
    cpuMicrosPerOp: (used.user + used.system) / ops,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

async function run(name: string, get: (key: string) => Promise<unknown>): Promise<Result> {
  await measure(get, Math.min(1000, durationMs / 3)); // warm-up: JIT, connections, scripts loaded
  const result = await measure(get, durationMs);
  console.log(
    `| ${name} | ${Math.round(result.opsPerSecond)} | ${result.cpuMicrosPerOp.toFixed(2)} | ${result.p50Ms.toFixed(3)} | ${result.p99Ms.toFixed(3)} |`,
  );
  return result;
}

const settings = { defaultTtlMs: 600_000, maxValueBytes: 1024 * 1024 };
const lru = new LRUCache<string, Uint8Array>({
  maxSize: 64 * 1024 * 1024,
  sizeCalculation: (v) => v.byteLength + 96,
});
const memoryCache = new Cache(new MemoryCacheBackend({ maxTotalBytes: 64 * 1024 * 1024 }), {
  application: "bench",
  ...settings,
});
const redisBackend = new RedisCacheBackend({
  url: redisUrl,
  namespace,
  commandTimeoutMs: 5000,
  connectTimeoutMs: 2000,
  maxReconnectDelayMs: 1000,
});
if (!(await redisBackend.waitUntilReady(5000))) throw new Error(`no Redis at ${redisUrl}`);
const redisCache = new Cache(redisBackend, { application: "bench", ...settings });
// Raw: what a function author would write by hand, GETting the same stored strings.
const raw = new Redis(redisUrl, { enableAutoPipelining: true });

for (let i = 0; i < KEYS; i++) {
  lru.set(`k${i}`, value, { ttl: 600_000 });
  await memoryCache.set(`k${i}`, value);
  await redisCache.set(`k${i}`, value);
}
const rawKey = (key: string) => `${namespace}bench/${key}`;

console.log(
  `cache-get: ${durationMs} ms per run, c=${concurrency}, ${valueBytes}-byte values, ${KEYS} keys, node ${process.version}, ${redisUrl}`,
);
console.log("| scenario | gets/s | CPU us/get | p50 ms | p99 ms |");
console.log("| --- | --- | --- | --- | --- |");
const memoryRatios: number[] = [];
const redisRatios: number[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    // Alternate the order so neither side always runs on a warmer machine.
    const first = round % 2 === 1;
    const bareLru = async (key: string) => lru.get(key);
    const memory = (key: string) => memoryCache.get(key);
    const rawGet = (key: string) => raw.getBuffer(rawKey(key));
    const cacheGet = (key: string) => redisCache.get(key);
    const lruResult = first ? await run("bare lru-cache get", bareLru) : undefined;
    const memoryResult = await run("Cache.get, memory", memory);
    const lruLate = lruResult ?? (await run("bare lru-cache get", bareLru));
    memoryRatios.push(memoryResult.opsPerSecond / lruLate.opsPerSecond);
    const rawResult = first ? await run("raw ioredis GET", rawGet) : undefined;
    const redisResult = await run("Cache.get, Redis", cacheGet);
    const rawLate = rawResult ?? (await run("raw ioredis GET", rawGet));
    redisRatios.push(redisResult.opsPerSecond / rawLate.opsPerSecond);
  }
} finally {
  let cursor = "0";
  do {
    const [next, keys] = await raw.scan(cursor, "MATCH", `${namespace}*`, "COUNT", 1000);
    if (keys.length > 0) await raw.del(...keys);
    cursor = next;
  } while (cursor !== "0");
  raw.disconnect();
  await redisCache.close();
  await memoryCache.close();
}
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
console.log(
  `\nmemory Cache / bare lru-cache: ${memoryRatios.map((r) => r.toFixed(2)).join(", ")} (median ${median(memoryRatios).toFixed(2)})`,
);
console.log(
  `Redis Cache / raw ioredis GET: ${redisRatios.map((r) => r.toFixed(2)).join(", ")} (median ${median(redisRatios).toFixed(2)}; goal >= 0.8)`,
);
