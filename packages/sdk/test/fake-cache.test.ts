import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { test } from "node:test";
import { cache, Data } from "@switchboard/sdk";
import { installHostBridge } from "@switchboard/sdk/internal";
import { createFakeCache, FakeClock } from "@switchboard/sdk/testing";
import { z } from "zod";

// The SDK's cache object talks to the fake through a bridge, as a test harness would wire it.
const clock = new FakeClock(1_000);
const held = new Map<number, Uint8Array>();
let nextId = 1;
const fake = createFakeCache({
  clock,
  maxValueBytes: 64,
  data: {
    read: (id) => held.get(id) ?? new Uint8Array(),
    put: (bytes) => {
      held.set(nextId, bytes);
      return nextId++;
    },
  },
});
const invocation = new AsyncLocalStorage<number>();
installHostBridge({
  call: (op, args) => {
    if (op === "data.read") return Promise.resolve(held.get((args as { id: number }).id)?.slice().buffer);
    return fake.call(op, args, invocation.getStore() ?? 0);
  },
});
const as = <T>(id: number, work: () => Promise<T>) => invocation.run(id, work);
const code = async (promise: Promise<unknown>) =>
  promise.then(
    () => "none",
    (error: { code?: string }) => error.code,
  );

test("the fake answers get, set, getEntry and delete with TTLs on the test's clock", async () => {
  assert.equal(await cache.get("a"), undefined);
  const version = await cache.set("a", "one", 100);
  const data = await cache.get("a");
  assert.ok(data && Data.isData(data) && data.inHost);
  assert.equal(await data.text(), "one");
  const entry = await cache.getEntry("a");
  assert.equal(entry?.version, version);
  assert.equal(entry?.ttlRemainingMs, 100);
  clock.set(clock.now() + 99);
  assert.equal(await cache.getString("a"), "one");
  clock.set(clock.now() + 1);
  assert.equal(await cache.getString("a"), undefined);
  await cache.setJson("j", { x: 1 });
  assert.deepEqual(await cache.getJson("j", z.object({ x: z.number() })), { x: 1 });
  assert.equal(await code(cache.getJson("j", z.object({ x: z.string() }))), "SB_SDK_CACHE_DECODE_FAILED");
  assert.equal(await cache.delete("j"), true);
  assert.equal(await cache.delete("j"), false);
});

test("the fake keeps the host's conditions, versions, limits and error codes", async () => {
  assert.deepEqual(await cache.setIf("c", "1", "present"), { stored: false });
  const first = await cache.setIf("c", "1", "absent");
  assert.equal(first.stored, true);
  assert.deepEqual(await cache.setIf("c", "2", "absent"), { stored: false });
  assert.equal((await cache.setIf("c", "2", { equal: "1" })).stored, true);
  assert.deepEqual(await cache.setIf("c", "3", { notEqual: "2" }), { stored: false });
  assert.deepEqual(await cache.setIf("c", "3", first.stored ? { version: first.version } : "absent"), {
    stored: false,
  });
  assert.equal(await code(cache.set("big", "x".repeat(65))), "SB_CACHE_VALUE_TOO_LARGE");
  assert.equal(await code(cache.set("", "x")), "SB_CACHE_BAD_KEY");
  assert.equal(await code(cache.set("k", "x", -1)), "SB_CACHE_BAD_TTL");
  assert.equal(await code(cache.setIf("k", "x", "maybe" as never)), "SB_CACHE_BAD_CONDITION");
});

test("getOrSet in the fake runs one loader for concurrent invocations and fails waiters with its error", async () => {
  let loads = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const loader = async () => {
    loads++;
    await gate;
    return "loaded";
  };
  const calls = [1, 2, 3].map((id) =>
    as(id, () => cache.getOrSet("g", 1000, loader).then((data) => data.text())),
  );
  await new Promise((resolve) => setImmediate(resolve));
  release();
  assert.deepEqual(await Promise.all(calls), ["loaded", "loaded", "loaded"]);
  assert.equal(loads, 1);

  const failing = [4, 5].map((id) =>
    as(id, () =>
      cache.getOrSet("f", 1000, async () => {
        await new Promise((resolve) => setImmediate(resolve));
        throw new Error("upstream down");
      }),
    ),
  );
  assert.deepEqual(await Promise.all(failing.map(code)), [undefined, "SB_CACHE_LOADER_FAILED"]);
  assert.equal(fake.flights, 0);
});

test("the fake abandons a flight when its invocation ends, and serves stale values while one caller refreshes", async () => {
  const owner = as(10, () => cache.getOrSet("h", 1000, () => new Promise<string>(() => {})));
  void owner.catch(() => {});
  await new Promise((resolve) => setImmediate(resolve));
  const waiter = as(11, () => cache.getOrSet("h", 1000, () => "never"));
  await new Promise((resolve) => setImmediate(resolve));
  fake.invocationEnded(10);
  assert.equal(await code(waiter), "SB_CACHE_FLIGHT_ABANDONED");

  await cache.getOrSet("s", 100, () => "v1", { staleWhileRevalidateMs: 1000 });
  clock.set(clock.now() + 200);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const refresher = as(20, () =>
    cache.getOrSet(
      "s",
      100,
      async () => {
        await gate;
        return "v2";
      },
      { staleWhileRevalidateMs: 1000 },
    ),
  );
  await new Promise((resolve) => setImmediate(resolve));
  // Past the TTL, inside the stale window, while invocation 20 refreshes: the stale value at once.
  assert.equal(
    await (
      await as(22, () => cache.getOrSet("s", 100, () => "unused", { staleWhileRevalidateMs: 1000 }))
    ).text(),
    "v1",
  );
  release();
  assert.equal(await (await refresher).text(), "v2");
  assert.equal(await cache.getString("s"), "v2");
});
