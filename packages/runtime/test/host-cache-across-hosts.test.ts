import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import {
  CACHE_MODULE,
  type CacheHost,
  type CountingUpstream,
  cacheModuleDoc,
  countingUpstream,
  sleep,
  startCacheHost,
} from "./support/cache-host.js";
import { ALLOW_LOOPBACK } from "./support/start-host.js";

// Two runtimes on one Redis stand for two machines of a cluster: every key of this run under
// one prefix, removed at the end.
const run = randomBytes(4).toString("hex");
const KEY_PREFIX = `switchboard-test:${run}:`;
const REDIS_DOC = [
  "kind: io.switchboard.cache.v1/redis",
  "spec:",
  "  url: redis://127.0.0.1:6379",
  `  application: across-${run}`,
  `  keyPrefix: "${KEY_PREFIX}"`,
].join("\n");

describe("getOrSet across hosts sharing a Redis", () => {
  let upstream: CountingUpstream;
  let hostA: CacheHost;
  let hostB: CacheHost;
  const memoUrl = (host: CacheHost) => `${host.url}/memo?upstream=${encodeURIComponent(upstream.url)}`;

  before(async () => {
    upstream = await countingUpstream();
    hostA = await startCacheHost([
      REDIS_DOC,
      cacheModuleDoc(CACHE_MODULE, 2, ["limits:", "  timeout: 10s", ALLOW_LOOPBACK]),
    ]);
    hostB = await startCacheHost([
      REDIS_DOC,
      cacheModuleDoc(CACHE_MODULE, 2, ["limits:", "  timeout: 10s", ALLOW_LOOPBACK]),
    ]);
  });
  after(async () => {
    await hostA?.stop();
    await hostB?.stop();
    await upstream?.close();
    const admin = new Redis("redis://127.0.0.1:6379");
    try {
      const keys = await admin.keys(`${KEY_PREFIX}*`);
      if (keys.length > 0) await admin.del(...keys);
    } finally {
      admin.disconnect();
    }
  });

  test("concurrent requests on two hosts call the upstream once", async () => {
    const key = `both-${run}`;
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    upstream.answer = async (_request, text, call) => {
      await held;
      return { status: 200, body: `${text}#${call}` };
    };
    const calls = upstream.calls;
    const ask = (host: CacheHost) =>
      fetch(memoUrl(host), { method: "POST", body: key }).then(
        async (response) => `${response.status} ${await response.text()}`,
      );
    const onA = Array.from({ length: 5 }, () => ask(hostA));
    for (let wait = 0; wait < 200 && upstream.calls === calls; wait++) await sleep(25);
    const onB = Array.from({ length: 5 }, () => ask(hostB));
    await sleep(300); // time enough for host B to call the upstream itself
    release();
    const bodies = await Promise.all([...onA, ...onB]);
    assert.equal(upstream.calls - calls, 1, "one upstream call across both hosts");
    assert.deepEqual(new Set(bodies), new Set([`200 ${key}#${calls + 1}`]));
  });

  test("when the loading invocation ends early, the other host loads without waiting for the lock to expire", async () => {
    const key = `abandoned-${run}`;
    const calls = upstream.calls;
    let secondCallAt = 0;
    upstream.answer = async (_request, text, call) => {
      if (call === calls + 1) return new Promise(() => {}); // the first load never answers
      secondCallAt = Date.now();
      return { status: 200, body: `${text}#${call}` };
    };
    const client = new AbortController();
    const startedA = Date.now();
    const owner = fetch(memoUrl(hostA), { method: "POST", body: key, signal: client.signal });
    owner.catch(() => {});
    for (let wait = 0; wait < 200 && upstream.calls === calls; wait++) await sleep(25);
    assert.equal(upstream.calls, calls + 1, "host A is loading");
    const waiter = fetch(memoUrl(hostB), { method: "POST", body: key });
    await sleep(200);
    assert.equal(upstream.calls, calls + 1, "host B waits for host A's load");
    client.abort(); // A's client goes away: its invocation ends, and with it the flight and the lock
    const response = await waiter;
    assert.equal(response.status, 200);
    assert.equal(await response.text(), `${key}#${calls + 2}`);
    // A's lock would have lived until its 10 s deadline; the abandoned flight released it.
    assert.ok(secondCallAt - startedA < 9000, `B loaded after ${secondCallAt - startedA} ms`);
  });
});
