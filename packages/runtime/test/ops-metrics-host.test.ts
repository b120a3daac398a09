import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { UNKNOWN_WEB_ROUTE } from "../src/host/host-observer.js";
import { Runtime } from "../src/runtime.js";
import { CACHE_MODULE, cacheModuleDoc, countingUpstream, sleep } from "./support/cache-host.js";
import { metricValue, type Sample, scrape } from "./support/metrics-text.js";
import { ALLOW_LOOPBACK, moduleDoc, WEB_MODULE } from "./support/start-host.js";
import { tempDir } from "./support/temp-dir.js";
import { until } from "./support/until.js";

/** Scrapes until `check` holds (bounded), for figures that are true only for a moment. */
async function scrapeUntil(admin: string, check: (samples: Sample[]) => boolean, what: string) {
  for (let attempt = 0; attempt < 400; attempt++) {
    const samples = await scrape(admin);
    try {
      if (check(samples)) return samples;
    } catch {
      // The series is not there yet.
    }
    await sleep(10);
  }
  throw new Error(`/metrics never showed ${what}`);
}

test("after real web traffic /metrics reports web latency by route and status, cache hits and misses per backend, and worker pool figures per module", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    [
      cacheModuleDoc(CACHE_MODULE, 2, [ALLOW_LOOPBACK]),
      moduleDoc(["limits: { timeout: 300ms }", "web: [loops, echo-text, order]"]),
      "kind: io.switchboard.functions.v1/web\nspec: { port: 0 }\n",
    ].join("\n---\n"),
  );
  const upstream = await countingUpstream();
  t.after(() => upstream.close());
  const runtime = await Runtime.start({ modules: [file], dataDir: join(dir, "data"), adminPort: 0 });
  t.after(() => runtime.stop());
  const admin = runtime.ops.adminUrl as string;
  const url = `${runtime.host.listeners[0]?.url}/functions`;
  const send = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${url}${path}`, init);
    await response.arrayBuffer();
    return response.status;
  };
  const memo = (key: string) =>
    send(`/memo?upstream=${encodeURIComponent(upstream.url)}`, { method: "POST", body: key });
  const cacheGet = (key: string) =>
    send("/cache-op", { method: "POST", body: JSON.stringify({ op: "get", key }) });

  // Cache: a getOrSet that misses (and loads), the same that hits, a get that hits, one that misses.
  assert.equal(await memo("k1"), 200);
  assert.equal(await memo("k1"), 200);
  assert.equal(upstream.calls, 1, "the second getOrSet was answered from the cache");
  assert.equal(await cacheGet("k1"), 200);
  assert.equal(await cacheGet("absent"), 200);
  // A direct user of the runtime's cache is counted the same way, once.
  assert.ok(await runtime.cache.get("k1"));

  // Failures: a body the function's schema refuses (400); an unknown function, a path outside
  // /functions/ and a name that is not valid percent-encoding (404 each).
  assert.equal(await send("/order", { method: "POST", body: "not json" }), 400);
  assert.equal(await send("/no-such-function"), 404);
  assert.equal(await send("/%E0%A4%A"), 404);
  const outside = await fetch(`${url.replace("/functions", "")}/elsewhere`);
  await outside.arrayBuffer();
  assert.equal(outside.status, 404);
  assert.equal(await send("/echo-text", { method: "POST", body: "hi" }), 200);

  const samples = await scrape(admin);
  const web = (route: string, status: string) => ({ route, status });
  const count = "switchboard_web_request_duration_seconds_count";
  assert.equal(metricValue(samples, count, web("memo", "2xx")), 2);
  assert.equal(metricValue(samples, count, web("cache-op", "2xx")), 2);
  assert.equal(metricValue(samples, count, web("echo-text", "2xx")), 1);
  assert.equal(metricValue(samples, count, web("order", "4xx")), 1);
  assert.equal(metricValue(samples, count, web(UNKNOWN_WEB_ROUTE, "4xx")), 3);
  assert.ok(metricValue(samples, "switchboard_web_request_duration_seconds_sum", web("memo", "2xx")) > 0);
  assert.equal(
    metricValue(samples, "switchboard_web_request_duration_seconds_bucket", {
      ...web("memo", "2xx"),
      le: "+Inf",
    }),
    2,
  );
  assert.ok(
    !samples.some((s) => s.labels.route === "no-such-function" || s.labels.route === "elsewhere"),
    "requested names never become labels",
  );

  const cache = (result: string) => ({ backend: "memory", result });
  assert.equal(metricValue(samples, "switchboard_cache_requests_total", cache("hit")), 3);
  assert.equal(metricValue(samples, "switchboard_cache_requests_total", cache("miss")), 2);

  // Pools, labelled by the module file as configured: two idle workers for the cache module.
  const cachePool = { pool: CACHE_MODULE };
  assert.equal(metricValue(samples, "switchboard_worker_pool_workers", { ...cachePool, state: "idle" }), 2);
  assert.equal(metricValue(samples, "switchboard_worker_pool_workers", { ...cachePool, state: "busy" }), 0);
  assert.equal(metricValue(samples, "switchboard_worker_pool_utilisation_ratio", cachePool), 0);
  assert.equal(metricValue(samples, "switchboard_worker_pool_queued_tasks", cachePool), 0);
  assert.equal(
    metricValue(samples, "switchboard_worker_pool_workers", { pool: WEB_MODULE, state: "idle" }),
    1,
  );

  // Busy: hold the upstream while a getOrSet loads through it.
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  upstream.answer = async (_request, body, call) => {
    await held;
    return { status: 200, body: `${body}#${call}` };
  };
  const loading = memo("k2");
  await until("the loader to reach the upstream", () => upstream.calls === 2, { timeoutMs: 15_000 });
  const busy = await scrape(admin);
  assert.equal(metricValue(busy, "switchboard_worker_pool_workers", { ...cachePool, state: "busy" }), 1);
  assert.equal(metricValue(busy, "switchboard_worker_pool_workers", { ...cachePool, state: "idle" }), 1);
  assert.equal(metricValue(busy, "switchboard_worker_pool_utilisation_ratio", cachePool), 0.5);
  release();
  assert.equal(await loading, 200);

  // Queued: the web module's only worker loops until it times out (504) and is replaced;
  // a request sent meanwhile waits in the pool's queue for the replacement.
  assert.equal(await send("/loops"), 504);
  const waiting = send("/echo-text", { method: "POST", body: "queued" });
  const queued = await scrapeUntil(
    admin,
    (s) => metricValue(s, "switchboard_worker_pool_queued_tasks", { pool: WEB_MODULE }) === 1,
    "a task queued on the web module's pool",
  );
  assert.equal(
    metricValue(queued, "switchboard_worker_pool_workers", { pool: WEB_MODULE, state: "idle" }),
    0,
  );
  assert.equal(await waiting, 200);

  const after = await scrape(admin);
  assert.equal(metricValue(after, count, web("loops", "5xx")), 1);
  assert.equal(metricValue(after, count, web("echo-text", "2xx")), 2);
  assert.equal(metricValue(after, count, web("memo", "2xx")), 3);
  assert.equal(metricValue(after, "switchboard_cache_requests_total", cache("miss")), 3);
  assert.equal(metricValue(after, "switchboard_worker_pool_queued_tasks", { pool: WEB_MODULE }), 0);
});

test("worker pool metrics follow the pools a reload puts in place", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "module.yaml");
  const write = (workers: number) =>
    writeFileSync(
      file,
      [
        cacheModuleDoc(WEB_MODULE, workers),
        "kind: io.switchboard.functions.v1/web\nspec: { port: 0 }\n",
      ].join("\n---\n"),
    );
  write(1);
  const runtime = await Runtime.start({ modules: [file], dataDir: join(dir, "data"), adminPort: 0 });
  t.after(() => runtime.stop());
  const admin = runtime.ops.adminUrl as string;
  const idle = (samples: Sample[]) =>
    metricValue(samples, "switchboard_worker_pool_workers", { pool: WEB_MODULE, state: "idle" });
  assert.equal(idle(await scrape(admin)), 1);

  write(3);
  const report = await runtime.reload([file]);
  assert.ok(report.ok, JSON.stringify(report));
  // The old pool is counted while it retires, then only the new one is.
  await scrapeUntil(admin, (samples) => idle(samples) === 3, "the new pool's three idle workers alone");
  assert.equal(runtime.host.poolStats().get(WEB_MODULE)?.idle, 3);
});
