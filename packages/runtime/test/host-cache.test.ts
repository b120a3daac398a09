import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  CACHE_MODULE,
  CACHE_MODULE_B,
  type CacheHost,
  type CountingUpstream,
  cacheModuleDoc,
  countingUpstream,
  sleep,
  startCacheHost,
} from "./support/cache-host.js";
import { freePort, RedisProcess } from "./support/redis-process.js";
import { ALLOW_LOOPBACK } from "./support/start-host.js";

const run = randomBytes(4).toString("hex");
const MAX_VALUE = 4096;

const backends = [
  {
    name: "memory",
    doc: () => `kind: io.switchboard.cache.v1/memory\nspec:\n  maxValueBytes: ${MAX_VALUE}\n`,
  },
  {
    name: "redis",
    doc: () =>
      [
        "kind: io.switchboard.cache.v1/redis",
        "spec:",
        "  url: redis://127.0.0.1:6379",
        `  application: hostcache-test-${run}`,
        `  keyPrefix: "switchboard-test:${run}:"`,
        `  maxValueBytes: ${MAX_VALUE}`,
      ].join("\n"),
  },
];

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return (await response.json()) as Record<string, unknown>;
}

for (const backend of backends) {
  describe(`cache host calls on the ${backend.name} backend`, () => {
    let host: CacheHost;
    let upstream: CountingUpstream;
    let op: (body: Record<string, unknown>) => Promise<Record<string, unknown>>;
    const key = (name: string) => `${name}-${run}`;

    before(async () => {
      upstream = await countingUpstream();
      host = await startCacheHost([
        backend.doc(),
        // dataBytes below the upstream bodies relayed: a body read into a worker would fail.
        cacheModuleDoc(CACHE_MODULE, 4, ["limits:", "  dataBytes: 1024", ALLOW_LOOPBACK]),
        cacheModuleDoc(CACHE_MODULE_B, 1, ["cache:", `  application: other-${run}`]),
      ]);
      op = (body) => post(`${host.url}/cache-op`, body);
    });
    after(async () => {
      await host?.stop();
      await upstream?.close();
    });

    test("set, get as Data, bytes, text and JSON, getEntry, delete", async () => {
      const k = key("basic");
      assert.deepEqual(await op({ op: "get", key: k }), { found: false });
      const { version } = await op({ op: "set", key: k, value: "hello" });
      assert.equal(typeof version, "string");
      assert.deepEqual(await op({ op: "get", key: k }), { found: true, inHost: true, text: "hello" });
      assert.deepEqual(await op({ op: "getString", key: k }), { text: "hello" });
      const entry = await op({ op: "getEntry", key: k });
      assert.equal(entry.text, "hello");
      assert.equal(entry.version, version);
      // No TTL given: the configured default (1 min).
      assert.ok((entry.ttlRemainingMs as number) > 50_000 && (entry.ttlRemainingMs as number) <= 60_000);
      await op({ op: "setBytes", key: k, value: [0, 1, 255] });
      assert.deepEqual(await op({ op: "getBytes", key: k }), { bytes: [0, 1, 255] });
      assert.equal((await op({ op: "getString", key: k })).error, "SB_SDK_CACHE_DECODE_FAILED");
      await op({ op: "setJson", key: k, value: { x: 3, y: 4 } });
      assert.deepEqual(await op({ op: "getJson", key: k }), { json: { x: 3, y: 4 } });
      assert.deepEqual(await op({ op: "getJsonChecked", key: k }), { json: { x: 3, y: 4 } });
      await op({ op: "setJson", key: k, value: { x: "three" } });
      const invalid = await op({ op: "getJsonChecked", key: k });
      assert.equal(invalid.error, "SB_SDK_CACHE_DECODE_FAILED");
      assert.match(invalid.message as string, /x/);
      assert.deepEqual(await op({ op: "delete", key: k }), { deleted: true });
      assert.deepEqual(await op({ op: "delete", key: k }), { deleted: false });
      assert.deepEqual(await op({ op: "get", key: k }), { found: false });
    });

    test("a TTL in milliseconds expires the entry", async () => {
      const k = key("ttl");
      // Generous TTL: the first read must land inside it even on a loaded machine.
      await op({ op: "set", key: k, value: "brief", ttlMs: 1500 });
      const entry = await op({ op: "getEntry", key: k });
      assert.equal(entry.text, "brief");
      assert.ok((entry.ttlRemainingMs as number) <= 1500);
      await sleep(1800);
      assert.deepEqual(await op({ op: "getString", key: k }), { text: null });
    });

    test("setIf honours absent, present, equal, notEqual and version", async () => {
      const k = key("conditions");
      const setIf = (value: string, condition: unknown) => op({ op: "setIf", key: k, value, condition });
      assert.deepEqual(await setIf("a", "present"), { stored: false });
      const first = await setIf("a", "absent");
      assert.equal(first.stored, true);
      assert.deepEqual(await setIf("b", "absent"), { stored: false });
      assert.deepEqual(await setIf("b", { equal: "zzz" }), { stored: false });
      assert.equal((await setIf("b", { equal: "a" })).stored, true);
      assert.deepEqual(await setIf("c", { notEqual: "b" }), { stored: false });
      const current = await op({ op: "getEntry", key: k });
      assert.deepEqual(await setIf("d", { version: first.version }), { stored: false });
      assert.equal((await setIf("d", { version: current.version })).stored, true);
      assert.equal((await setIf("e", "present")).stored, true);
      assert.equal((await op({ op: "getString", key: k })).text, "e");
      assert.equal((await setIf("f", "sometimes")).error, "SB_CACHE_BAD_CONDITION");
    });

    test("setIf absent from 50 concurrent requests stores exactly one value", async () => {
      const k = key("race");
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          op({ op: "setIf", key: k, value: `w${index}`, condition: "absent" }),
        ),
      );
      const winners = results
        .map((result, index) => (result.stored ? index : -1))
        .filter((index) => index >= 0);
      assert.equal(winners.length, 1, JSON.stringify(results.filter((result) => result.error)));
      assert.equal((await op({ op: "getString", key: k })).text, `w${winners[0]}`);
    });

    test("compare-and-swap increments from 20 concurrent requests lose no update", async () => {
      const k = key("counter");
      await op({ op: "set", key: k, value: "0" });
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          for (let attempt = 0; attempt < 200; attempt++) {
            const entry = await op({ op: "getEntry", key: k });
            const next = String(Number(entry.text) + 1);
            const result = await op({
              op: "setIf",
              key: k,
              value: next,
              condition: { version: entry.version },
            });
            if (result.stored) return;
          }
          throw new Error("no CAS succeeded in 200 attempts");
        }),
      );
      assert.equal((await op({ op: "getString", key: k })).text, "20");
    });

    test("a value above maxValueBytes fails in the function with SB_CACHE_VALUE_TOO_LARGE", async () => {
      const k = key("large");
      const failed = await op({ op: "set", key: k, value: "x".repeat(MAX_VALUE + 1) });
      assert.equal(failed.error, "SB_CACHE_VALUE_TOO_LARGE");
      assert.deepEqual(await op({ op: "get", key: k }), { found: false });
      // An upstream body over the limit, stored straight from the host, fails the same way.
      upstream.answer = async () => ({ status: 200, body: Buffer.alloc(MAX_VALUE + 100, 0x61) });
      const response = await fetch(`${host.url}/relay-cached?upstream=${encodeURIComponent(upstream.url)}`, {
        method: "POST",
        body: k,
      });
      assert.equal(response.status, 500);
      assert.equal(((await response.json()) as { error: string }).error, "SB_CACHE_VALUE_TOO_LARGE");
    });

    test("an upstream body is cached and answered from the host without entering the worker", async () => {
      const k = key("relay");
      const body = Buffer.alloc(3000, 0x62); // above the module's dataBytes (1024)
      upstream.answer = async () => ({ status: 200, body });
      const response = await fetch(`${host.url}/relay-cached?upstream=${encodeURIComponent(upstream.url)}`, {
        method: "POST",
        body: k,
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("x-in-host"), "true");
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), body);
      // Reading it into the worker is what dataBytes forbids: proof the relay never did.
      assert.equal((await op({ op: "get", key: k })).error, "SB_HOST_DATA_TOO_LARGE");
    });

    test("getOrSet from 100 concurrent requests across 4 workers calls the upstream once", async () => {
      const k = key("flight");
      const calls = upstream.calls;
      upstream.answer = async (_request, text, call) => {
        await sleep(200);
        return { status: 200, body: `${text}#${call}` };
      };
      const url = `${host.url}/memo?upstream=${encodeURIComponent(upstream.url)}`;
      const bodies = await Promise.all(
        Array.from({ length: 100 }, async () => {
          const response = await fetch(url, { method: "POST", body: k });
          return `${response.status} ${await response.text()}`;
        }),
      );
      assert.equal(upstream.calls - calls, 1);
      assert.deepEqual(new Set(bodies), new Set([`200 ${k}#${calls + 1}`]));
      const again = await fetch(url, { method: "POST", body: k });
      assert.equal(await again.text(), `${k}#${calls + 1}`);
      assert.equal(upstream.calls - calls, 1);
    });

    test("getOrSetJson validates with a schema and loads once", async () => {
      const k = key("json");
      assert.deepEqual(await post(`${host.url}/memo-json`, k), { point: { x: 1, y: 2 }, loads: 1 });
      assert.deepEqual(await post(`${host.url}/memo-json`, k), { point: { x: 1, y: 2 }, loads: 0 });
    });

    test("stale-while-revalidate answers the stale value while exactly one refresh runs", async () => {
      const k = key("swr");
      const calls = upstream.calls;
      upstream.answer = async (_request, text, call) => ({ status: 200, body: `${text}#${call}` });
      const url = `${host.url}/memo?upstream=${encodeURIComponent(upstream.url)}&ttl=100&stale=60000`;
      const first = await fetch(url, { method: "POST", body: k });
      const v1 = await first.text();
      await sleep(250); // past the TTL, inside the stale window
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      upstream.answer = async (_request, text, call) => {
        await gate;
        return { status: 200, body: `${text}#${call}` };
      };
      const refreshing = Array.from({ length: 10 }, () =>
        fetch(url, { method: "POST", body: k }).then((response) => response.text()),
      );
      // Nine callers answer with the stale value while the refresh is held at the upstream.
      const staleAnswers: string[] = [];
      for (const answer of refreshing) void answer.then((text) => staleAnswers.push(text));
      for (let wait = 0; wait < 200 && staleAnswers.length < 9; wait++) await sleep(25);
      await sleep(100);
      assert.deepEqual(staleAnswers, Array(9).fill(v1));
      assert.equal(upstream.calls - calls, 2);
      release();
      const all = await Promise.all(refreshing);
      const v2 = `${k}#${calls + 2}`;
      assert.deepEqual(all.filter((text) => text === v2).length, 1);
      assert.equal(await (await fetch(url, { method: "POST", body: k })).text(), v2);
      assert.equal(upstream.calls - calls, 2);
    });

    test("a loader that throws fails its waiters with SB_CACHE_LOADER_FAILED and stores nothing", async () => {
      const k = key("loader-fails");
      const calls = upstream.calls;
      // Slow enough that all ten callers arrive while the one load runs, even on a loaded machine.
      upstream.answer = async () => {
        await sleep(1000);
        return { status: 500, body: "down" };
      };
      const url = `${host.url}/memo?upstream=${encodeURIComponent(upstream.url)}`;
      const errors = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const response = await fetch(url, { method: "POST", body: k });
          assert.equal(response.status, 502);
          return ((await response.json()) as { error: string; message: string }).error;
        }),
      );
      assert.equal(upstream.calls - calls, 1);
      assert.equal(errors.filter((code) => code === "UPSTREAM").length, 1);
      assert.equal(errors.filter((code) => code === "SB_CACHE_LOADER_FAILED").length, 9);
      upstream.answer = async (_request, text, call) => ({ status: 200, body: `${text}#${call}` });
      const recovered = await fetch(url, { method: "POST", body: k });
      assert.equal(await recovered.text(), `${k}#${calls + 2}`);
    });

    test("a module with its own cache application does not see the others' keys", async () => {
      const k = key("scoped");
      await op({ op: "set", key: k, value: "from a" });
      const other = (body: Record<string, unknown>) => post(`${host.url}/cache-op-b`, body);
      assert.deepEqual(await other({ op: "getString", key: k }), { text: null });
      await other({ op: "set", key: k, value: "from b" });
      assert.equal((await op({ op: "getString", key: k })).text, "from a");
      assert.equal((await other({ op: "getString", key: k })).text, "from b");
    });
  });
}

describe("cache host calls when things go wrong", () => {
  test("with Redis unreachable, calls fail in the function with SB_CACHE_UNAVAILABLE and the host keeps serving", async (t) => {
    const port = await freePort();
    const host = await startCacheHost([
      `kind: io.switchboard.cache.v1/redis\nspec:\n  url: redis://127.0.0.1:${port}\n  connectTimeout: 100ms\n`,
      cacheModuleDoc(CACHE_MODULE, 1),
    ]);
    t.after(() => host.stop());
    for (const body of [
      { op: "get", key: "k" },
      { op: "set", key: "k", value: "v" },
      { op: "setIf", key: "k", value: "v", condition: "absent" },
    ]) {
      const answer = await post(`${host.url}/cache-op`, body);
      assert.equal(answer.error, "SB_CACHE_UNAVAILABLE", JSON.stringify(answer));
    }
    const memo = await fetch(`${host.url}/memo-json`, { method: "POST", body: "k" });
    assert.equal(memo.status, 500, "an uncaught cache error fails only its invocation");
    assert.equal((await post(`${host.url}/cache-op`, { op: "get", key: "k" })).error, "SB_CACHE_UNAVAILABLE");
  });

  test("when Redis restarts, hosted calls fail with SB_CACHE_UNAVAILABLE meanwhile and work again after", async (t) => {
    const redis = new RedisProcess(await freePort());
    await redis.start();
    t.after(() => redis.kill());
    const host = await startCacheHost([
      `kind: io.switchboard.cache.v1/redis\nspec:\n  url: ${redis.url}\n  maxReconnectDelay: 100ms\n`,
      cacheModuleDoc(CACHE_MODULE, 1),
    ]);
    t.after(() => host.stop());
    const op = (body: Record<string, unknown>) => post(`${host.url}/cache-op`, body);
    assert.ok(typeof (await op({ op: "set", key: "k", value: "before" })).version === "string");
    await redis.kill();
    assert.equal((await op({ op: "get", key: "k" })).error, "SB_CACHE_UNAVAILABLE");
    await redis.start();
    let answer: Record<string, unknown> = {};
    for (let attempt = 0; attempt < 100; attempt++) {
      answer = await op({ op: "set", key: "k", value: "after" });
      if (answer.version) break;
      await sleep(100);
    }
    assert.equal(typeof answer.version, "string", JSON.stringify(answer));
    assert.equal((await op({ op: "getString", key: "k" })).text, "after");
  });

  test("a loader whose invocation times out releases its waiters with SB_CACHE_FLIGHT_ABANDONED", async (t) => {
    const upstream = await countingUpstream();
    t.after(() => upstream.close());
    upstream.answer = () => new Promise(() => {}); // never answers
    const host = await startCacheHost([
      cacheModuleDoc(CACHE_MODULE, 2, ["limits:", "  timeout: 2s", ALLOW_LOOPBACK]),
    ]);
    t.after(() => host.stop());
    const url = `${host.url}/memo?upstream=${encodeURIComponent(upstream.url)}`;
    const owner = fetch(url, { method: "POST", body: "abandoned" });
    // Waiters start once the owner's loader is at the upstream, and well after it, so their
    // own deadlines come long after the owner's.
    for (let wait = 0; wait < 150 && upstream.calls === 0; wait++) await sleep(20);
    assert.equal(upstream.calls, 1);
    await sleep(800);
    const waiters = Array.from({ length: 5 }, () => fetch(url, { method: "POST", body: "abandoned" }));
    assert.equal((await owner).status, 504);
    for (const waiter of waiters) {
      const response = await waiter;
      assert.equal(response.status, 502);
      assert.equal(((await response.json()) as { error: string }).error, "SB_CACHE_FLIGHT_ABANDONED");
    }
    assert.equal(upstream.calls, 1);
  });
});
