import assert from "node:assert/strict";
import { test } from "node:test";
import { memoryCacheSpec } from "../src/cache/cache-kinds.js";
import { createMemoryCache } from "../src/cache/create-cache.js";
import { CacheFlights } from "../src/host/cache-flights.js";
import { registerCacheHostCalls } from "../src/host/cache-host-calls.js";
import { DataStore } from "../src/host/data-store.js";
import { HostCallTable } from "../src/host/host-calls.js";
import type { Invocation } from "../src/host/invocation.js";

function setup() {
  const cache = createMemoryCache(memoryCacheSpec.parse({}));
  const table = registerCacheHostCalls(new HostCallTable(), {
    cache,
    data: new DataStore(),
    flights: new CacheFlights(),
  });
  const invocation = (id: number): Invocation => ({
    id,
    signal: new AbortController().signal,
    deadlineAt: Number.POSITIVE_INFINITY,
    module: "test",
    streamSink: () => Promise.reject(new Error("not a streamed response")),
  });
  const call = async (op: string, who: Invocation, args: unknown) => (await table.call(op, who, args)).value;
  const code = (promise: Promise<unknown>) =>
    promise.then(
      () => "none",
      (error: { code?: string }) => error.code,
    );
  return { table, invocation, call, code };
}

test("cache host calls refuse arguments that are not an object, and unknown or foreign flights", async () => {
  const { invocation, call, code } = setup();
  const a = invocation(1);
  const b = invocation(2);
  assert.equal(await code(call("cache.get", a, null)), "SB_CACHE_BAD_VALUE");
  assert.equal(await code(call("cache.set", a, { key: "k", value: 42 })), "SB_CACHE_BAD_VALUE");
  assert.equal(await code(call("cache.set", a, { key: "k", value: { id: 99 } })), "SB_HOST_UNKNOWN_DATA");
  assert.equal(
    await code(call("cache.flight.complete", a, { flight: 12345, value: { bytes: new Uint8Array() } })),
    "SB_CACHE_UNKNOWN_FLIGHT",
  );
  const begun = (await call("cache.flight.begin", a, { key: "k", into: "data" })) as {
    state: string;
    flight: number;
  };
  assert.equal(begun.state, "load");
  assert.equal(
    await code(call("cache.flight.fail", b, { flight: begun.flight, message: "not mine" })),
    "SB_CACHE_UNKNOWN_FLIGHT",
  );
  assert.equal(
    await code(call("cache.flight.begin", a, { key: "k", ttlMs: -5, into: "data" })),
    "SB_CACHE_BAD_TTL",
  );
});

test("a flight whose invocation ends fails its waiters with SB_CACHE_FLIGHT_ABANDONED, and the next caller loads", async () => {
  const { table, invocation, call, code } = setup();
  const owner = invocation(1);
  const begun = (await call("cache.flight.begin", owner, { key: "k", into: "bytes" })) as { flight: number };
  const waiting = code(call("cache.flight.begin", invocation(2), { key: "k", into: "bytes" }));
  await new Promise((resolve) => setImmediate(resolve)); // the waiter has read the key and waits
  table.ended(owner);
  assert.equal(await waiting, "SB_CACHE_FLIGHT_ABANDONED");
  assert.equal(
    await code(
      call("cache.flight.complete", owner, { flight: begun.flight, value: { bytes: new Uint8Array([1]) } }),
    ),
    "SB_CACHE_UNKNOWN_FLIGHT",
  );
  const next = (await call("cache.flight.begin", invocation(3), { key: "k", into: "bytes" })) as {
    state: string;
  };
  assert.equal(next.state, "load");
});

test("waiters each get their own copy of the loaded bytes", async () => {
  const { invocation, call } = setup();
  const owner = invocation(1);
  const begun = (await call("cache.flight.begin", owner, { key: "k", into: "bytes" })) as { flight: number };
  const waiters = [2, 3].map((id) => call("cache.flight.begin", invocation(id), { key: "k", into: "bytes" }));
  await call("cache.flight.complete", owner, {
    flight: begun.flight,
    value: { bytes: new Uint8Array([7, 8]) },
  });
  const [first, second] = (await Promise.all(waiters)) as Array<{
    state: string;
    entry: { value: { bytes: Uint8Array } };
  }>;
  assert.equal(first?.state, "hit");
  assert.notEqual(first?.entry.value.bytes.buffer, second?.entry.value.bytes.buffer);
  assert.deepEqual([...(second?.entry.value.bytes ?? [])], [7, 8]);
});
