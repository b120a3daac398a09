/**
 * A web function answering from the cache (cache.getOrSet over an upstream call) against the
 * same function calling a local upstream that takes 20 ms every time, in the same run. Both
 * relay a 1 KiB body as a Data; keys are warmed first so the cached side only hits. Reports
 * requests/s and p50/p99 of each and the ratios. The load generator and the upstream are
 * processes of their own.
 *
 *   npm run bench -- web-cache [durationMs=5000] [concurrency=64] [backend=memory|redis] [workers=2]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Runtime } from "../packages/runtime/src/runtime.js";
import { type LoadResult, runJsonProcess, startServerProcess, stopProcess } from "./support/processes.js";

const durationMs = Number(process.argv[2] ?? 5000);
const concurrency = Number(process.argv[3] ?? 64);
const backend = process.argv[4] === "redis" ? "redis" : "memory";
const workers = Number(process.argv[5] ?? 2);
const KEYS = 100;
const UPSTREAM_DELAY_MS = 20;

const upstream = await startServerProcess("slow-upstream.ts", [String(UPSTREAM_DELAY_MS), "1024"]);
const dir = mkdtempSync(join(tmpdir(), "switchboard-bench-"));
const cacheDoc =
  backend === "redis"
    ? `kind: io.switchboard.cache.v1/redis\nspec:\n  url: redis://127.0.0.1:6379\n  application: web-cache-bench-${randomBytes(4).toString("hex")}\n`
    : "kind: io.switchboard.cache.v1/memory\nspec: {}\n";
const moduleFile = join(dir, "module.yaml");
writeFileSync(
  moduleFile,
  [
    cacheDoc,
    [
      "kind: io.switchboard.functions.v1/module",
      "spec:",
      `  module: ${new URL("support/web-cache-functions.ts", import.meta.url).pathname}`,
      `  workers: ${workers}`,
      "  env:",
      `    BENCH_UPSTREAM: "http://127.0.0.1:${upstream.port}/"`,
      // Loopback is refused unless named.
      `  outbound: { allow: ["http://127.0.0.1:${upstream.port}"] }`,
    ].join("\n"),
    "kind: io.switchboard.functions.v1/web\nspec:\n  port: 0\n",
  ].join("\n---\n"),
);
const runtime = await Runtime.start({ modules: [moduleFile], dataDir: join(dir, "data") });
const base = runtime.host.listeners[0]?.url ?? "";

const load = (name: string, ms: number) =>
  runJsonProcess<LoadResult>("load-generator.ts", [
    `${base}/functions/${name}`,
    String(KEYS),
    String(concurrency),
    String(ms),
  ]);

try {
  for (let key = 0; key < KEYS; key++) {
    const response = await fetch(`${base}/functions/cached/k${key}`);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`warm-up failed: ${response.status}`);
  }
  await load("direct", 1000);
  await load("cached", 1000);
  const direct = await load("direct", durationMs);
  const cached = await load("cached", durationMs);
  const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "-");
  console.log(
    `web-cache: ${durationMs} ms each, concurrency ${concurrency}, ${workers} workers, cache ${backend}, upstream ${UPSTREAM_DELAY_MS} ms, node ${process.version}`,
  );
  console.log("| function | req/s | p50 ms | p99 ms | errors |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const [name, result] of [
    ["direct (upstream every call)", direct],
    ["cached (getOrSet hit)", cached],
  ] as const) {
    console.log(
      `| ${name} | ${fmt(result.perSecond)} | ${fmt(result.p50, 2)} | ${fmt(result.p99, 2)} | ${result.errors + result.rejected} |`,
    );
  }
  console.log(
    `cached / direct throughput: ${fmt(cached.perSecond / direct.perSecond, 1)}x; p50 direct / cached: ${fmt(direct.p50 / cached.p50, 1)}x`,
  );
} finally {
  await runtime.stop();
  await stopProcess(upstream.child);
  rmSync(dir, { recursive: true, force: true });
}
