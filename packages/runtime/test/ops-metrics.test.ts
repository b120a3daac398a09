import assert from "node:assert/strict";
import { test } from "node:test";
import { Metrics } from "../src/ops/metrics.js";
import { metricValue, parseMetrics, scrape } from "./support/metrics-text.js";
import { startOpsFixture } from "./support/ops-fixture.js";
import { until } from "./support/until.js";

test("after real traffic /metrics reports messages, invocations, backlogs, store and transport figures", async (t) => {
  const fx = await startOpsFixture(t, { maxInFlight: 1 });
  const { runtime } = fx;

  // Normal traffic: five messages to two counters, one timer that schedules an hour-long delay.
  for (let i = 0; i < 5; i++) assert.equal(await fx.post(`test/counter/c${i % 2}`), 202);
  assert.equal(await fx.post("test/timer/t1"), 202);
  await runtime.dispatcher.settled();

  // A broken address: its server never answers, so it times out, retries and is suspended.
  assert.equal(await fx.post("test/broken/x"), 202);
  assert.equal(await fx.post("test/broken/x"), 202);
  await until("test/broken/x to be suspended", () => runtime.dispatcher.suspendedAddresses().length === 1, {
    timeoutMs: 15_000,
  });
  // Poll /metrics itself: a backoff retry in flight empties the backlog for a moment.
  let pressured = await scrape(fx.admin);
  for (let i = 0; i < 300 && metricValue(pressured, "switchboard_addresses_backpressured") !== 1; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    pressured = await scrape(fx.admin);
  }
  assert.equal(metricValue(pressured, "switchboard_addresses_backpressured"), 1);
  assert.equal(metricValue(pressured, "switchboard_addresses_suspended"), 1);
  assert.ok(metricValue(pressured, "switchboard_backlog_messages") >= 2);
  // Refused by back-pressure, unless a retry took the backlog out in the last few ms.
  const third = await fx.post("test/broken/x");
  assert.ok(third === 429 || third === 202, `third message: ${third}`);
  const brokenAccepted = third === 202 ? 3 : 2;

  // Hold the function server: one address in flight, another waiting for the only slot.
  let release = () => {};
  fx.functions.hold = new Promise<void>((resolve) => {
    release = resolve;
  });
  assert.equal(await fx.post("test/counter/slow1"), 202);
  assert.equal(await fx.post("test/counter/slow2"), 202);
  // (A retry of test/broken/x may hold the slot instead of slow1: either way one is in flight.)
  await until("a second address to wait for a slot", () => runtime.dispatcher.stats().waitingForSlot >= 1, {
    timeoutMs: 15_000,
  });

  const during = await scrape(fx.admin);
  assert.equal(metricValue(during, "switchboard_addresses_in_flight"), 1);
  assert.ok(metricValue(during, "switchboard_addresses_waiting_for_slot") >= 1);
  assert.ok(metricValue(during, "switchboard_backlog_messages") >= 1);

  fx.functions.hold = undefined;
  release();
  await runtime.dispatcher.settled();

  // Dead-letter the broken address's backlog through the admin API.
  // 409 while a backoff retry of the address happens to be in flight: ask again.
  let moved = 0;
  for (let attempt = 0; attempt < 100 && moved !== 200; attempt++) {
    const response = await fetch(`${fx.admin}/api/addresses/test/broken/x/dead-letter`, { method: "POST" });
    moved = response.status;
    await response.arrayBuffer();
    if (moved === 409) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(moved, 200);

  // The outbox and dead-letter gauges are store counts, recounted in the background at most
  // once a second (a scrape never waits for the store): scrape until they caught up.
  const caughtUp = (scraped: Awaited<ReturnType<typeof scrape>>) =>
    metricValue(scraped, "switchboard_egress_pending_records") === 7 &&
    metricValue(scraped, "switchboard_dead_letters") === brokenAccepted;
  let samples = await scrape(fx.admin);
  for (let i = 0; i < 100 && !caughtUp(samples); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    samples = await scrape(fx.admin);
  }
  const fn = (name: string) => ({ function_type: name });
  assert.equal(metricValue(samples, "switchboard_messages_accepted_total", fn("test/counter")), 7);
  assert.equal(
    metricValue(samples, "switchboard_messages_accepted_total", fn("test/broken")),
    brokenAccepted,
  );
  assert.equal(metricValue(samples, "switchboard_messages_applied_total", fn("test/counter")), 7);
  assert.equal(metricValue(samples, "switchboard_messages_applied_total", fn("test/timer")), 1);
  assert.ok(
    metricValue(samples, "switchboard_messages_failed_total", {
      function_type: "test/broken",
      code: "SB_TRANSPORT_DEADLINE_EXCEEDED",
    }) >= 1,
  );

  const ok = { endpoint: "test/*", outcome: "ok" };
  assert.ok(metricValue(samples, "switchboard_invocation_duration_seconds_count", ok) >= 8);
  assert.ok(metricValue(samples, "switchboard_invocation_duration_seconds_sum", ok) > 0);
  assert.ok(
    metricValue(samples, "switchboard_invocation_duration_seconds_count", {
      endpoint: "test/broken",
      outcome: "error",
    }) >= 1,
  );
  assert.ok(metricValue(samples, "switchboard_invocation_batch_size_count", { endpoint: "test/*" }) >= 8);
  assert.ok(metricValue(samples, "switchboard_invocation_batch_size_sum", { endpoint: "test/*" }) >= 8);

  assert.equal(
    metricValue(samples, "switchboard_addresses_suspended"),
    0,
    "dead-lettering lifted the suspension",
  );
  assert.equal(metricValue(samples, "switchboard_addresses_backpressured"), 0);
  assert.equal(metricValue(samples, "switchboard_addresses_in_flight"), 0);
  assert.equal(metricValue(samples, "switchboard_backlog_messages"), 0);
  assert.equal(metricValue(samples, "switchboard_dispatch_held_messages"), 0, "nothing waits, nothing held");
  assert.equal(metricValue(samples, "switchboard_delayed_messages_pending"), 1);
  assert.equal(
    metricValue(samples, "switchboard_egress_pending_records"),
    7,
    "nobody consumed the counts topic",
  );
  assert.equal(metricValue(samples, "switchboard_dead_letters"), brokenAccepted);

  assert.ok(metricValue(samples, "switchboard_store_commit_duration_seconds_count") > 0);
  assert.ok(metricValue(samples, "switchboard_store_commit_duration_seconds_sum") > 0);
  assert.ok(metricValue(samples, "switchboard_store_commit_group_size_count") > 0);
  assert.ok(metricValue(samples, "switchboard_store_commit_group_size_sum") > 0);

  const functionsOrigin = { origin: fx.functions.url.replace("http://", "") };
  const origin = samples.find(
    (s) =>
      s.name === "switchboard_transport_requests_total" && fx.functions.url.endsWith(s.labels.origin ?? "-"),
  )?.labels.origin;
  assert.ok(origin, `a transport series for ${functionsOrigin.origin}`);
  assert.ok(metricValue(samples, "switchboard_transport_connections", { origin, state: "open" }) >= 1);
  assert.ok(metricValue(samples, "switchboard_transport_connections", { origin, state: "idle" }) >= 1);
  assert.ok(metricValue(samples, "switchboard_transport_requests_total", { origin }) >= 8);
  assert.ok(metricValue(samples, "switchboard_transport_reused_connections_total", { origin }) >= 1);

  const brokenOrigin = samples.find(
    (s) => s.name === "switchboard_transport_retries_total" && s.labels.origin !== origin,
  )?.labels.origin as string;
  assert.ok(metricValue(samples, "switchboard_transport_retries_total", { origin: brokenOrigin }) >= 1);
  assert.ok(
    metricValue(samples, "switchboard_transport_timeouts_total", { origin: brokenOrigin, kind: "read" }) >= 1,
  );
  assert.ok(
    metricValue(samples, "switchboard_transport_timeouts_total", { origin: brokenOrigin, kind: "call" }) >= 1,
  );
  for (const kind of ["connect", "write"]) {
    assert.equal(
      metricValue(samples, "switchboard_transport_timeouts_total", { origin: brokenOrigin, kind }),
      0,
    );
  }

  for (const sample of samples.filter((s) => s.name.startsWith("switchboard_"))) {
    for (const [label, value] of Object.entries(sample.labels)) {
      assert.ok(
        !/\b(c0|c1|slow1|slow2|x|t1)$/.test(value) || label === "le",
        `${sample.name} has an id as label`,
      );
    }
  }
});

test("web function, cache and worker pool instruments appear once the host and the cache feed them", async () => {
  const metrics = new Metrics({ defaultMetrics: false });
  let before = parseMetrics((await metrics.exposition()).body);
  assert.equal(before.filter((s) => s.name.startsWith("switchboard_web_")).length, 0);
  metrics.observeWebRequest("GET /users/:id", 200, 0.012);
  metrics.observeWebRequest("GET /users/:id", 503, 0.2);
  metrics.cacheLookup("memory", true);
  metrics.cacheLookup("memory", true);
  metrics.cacheLookup("redis", false);
  metrics.addWorkerPool("web", () => ({ busy: 3, idle: 1, queued: 5 }));
  before = parseMetrics((await metrics.exposition()).body);
  const route = { route: "GET /users/:id" };
  assert.equal(
    metricValue(before, "switchboard_web_request_duration_seconds_count", { ...route, status: "2xx" }),
    1,
  );
  assert.equal(
    metricValue(before, "switchboard_web_request_duration_seconds_count", { ...route, status: "5xx" }),
    1,
  );
  assert.equal(
    metricValue(before, "switchboard_cache_requests_total", { backend: "memory", result: "hit" }),
    2,
  );
  assert.equal(
    metricValue(before, "switchboard_cache_requests_total", { backend: "redis", result: "miss" }),
    1,
  );
  assert.equal(metricValue(before, "switchboard_worker_pool_workers", { pool: "web", state: "busy" }), 3);
  assert.equal(metricValue(before, "switchboard_worker_pool_workers", { pool: "web", state: "idle" }), 1);
  assert.equal(metricValue(before, "switchboard_worker_pool_utilisation_ratio", { pool: "web" }), 0.75);
  assert.equal(metricValue(before, "switchboard_worker_pool_queued_tasks", { pool: "web" }), 5);
});

test("metric names follow Prometheus conventions and every family has help text", async (t) => {
  const fx = await startOpsFixture(t);
  const text = await (await fetch(`${fx.admin}/metrics`)).text();
  const families = [...text.matchAll(/^# TYPE (switchboard_\S+) (\S+)$/gm)].map((m) => ({
    name: m[1] as string,
    type: m[2] as string,
  }));
  assert.ok(families.length >= 20, `found ${families.length} families`);
  for (const { name, type } of families) {
    assert.match(name, /^switchboard_[a-z0-9_]+$/);
    if (type === "counter") assert.ok(name.endsWith("_total"), `${name} is a counter without _total`);
    else assert.ok(!name.endsWith("_total"), `${name} is a ${type} named _total`);
    if (name.includes("duration")) assert.ok(name.endsWith("_seconds"), `${name} has no _seconds unit`);
    assert.match(text, new RegExp(`^# HELP ${name} \\S`, "m"));
  }
});

test("hot-path histograms expose cumulative buckets, +Inf, sum and count per series", async () => {
  const metrics = new Metrics({ defaultMetrics: false });
  for (const seconds of [0.0005, 0.003, 0.003, 7]) metrics.observeInvocation("test/*", seconds, 2, true);
  metrics.observeInvocation("test/*", 0.2, 1, false);
  const samples = parseMetrics((await metrics.exposition()).body);
  const ok = { endpoint: "test/*", outcome: "ok" };
  const bucket = (le: string) =>
    metricValue(samples, "switchboard_invocation_duration_seconds_bucket", { ...ok, le });
  assert.equal(bucket("0.001"), 1);
  assert.equal(bucket("0.005"), 3);
  assert.equal(bucket("5"), 3);
  assert.equal(bucket("10"), 4);
  assert.equal(bucket("+Inf"), 4);
  assert.equal(metricValue(samples, "switchboard_invocation_duration_seconds_count", ok), 4);
  assert.ok(
    Math.abs(metricValue(samples, "switchboard_invocation_duration_seconds_sum", ok) - 7.0065) < 1e-9,
  );
  assert.equal(
    metricValue(samples, "switchboard_invocation_duration_seconds_count", {
      endpoint: "test/*",
      outcome: "error",
    }),
    1,
  );
  assert.equal(metricValue(samples, "switchboard_invocation_batch_size_sum", { endpoint: "test/*" }), 9);
  assert.equal(
    metricValue(samples, "switchboard_invocation_batch_size_bucket", { endpoint: "test/*", le: "1" }),
    1,
  );
});
