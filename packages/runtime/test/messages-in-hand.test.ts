import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import { Dispatcher, type DispatcherOptions } from "../src/dispatch/dispatcher.js";
import { RemoteInvoker } from "../src/invoke/remote-invoker.js";
import { SqliteBackend } from "../src/store/sqlite-backend.js";
import { Store } from "../src/store/store.js";
import { createTransport } from "../src/transport/index.js";
import type { TransportOptions } from "../src/transport/types.js";
import { type FunctionServer, startFunctionServer } from "./support/function-server.js";
import { decodeInt, encodeInt, INT, orderedCounter, ProtocolFunction } from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";
import { endpointsRouter, testTransportOptions } from "./support/test-router.js";
import { until } from "./support/until.js";

const counterMessage = (id: string, value: number) => ({
  target: { fn: "bench/counter", id },
  argument: { typename: INT, hasValue: true, value: encodeInt(value) },
});

/** A dispatcher on a real SQLite store whose batch reads are counted, and its function server. */
async function setUp(
  t: TestContext,
  options: Partial<DispatcherOptions> = {},
  transport: TransportOptions = testTransportOptions,
  dir = tempDir(t),
) {
  const violations: string[] = [];
  const server: FunctionServer = await startFunctionServer({
    "bench/counter": new ProtocolFunction([{ name: "count", typename: INT }], orderedCounter(violations)),
  });
  const router = endpointsRouter({ bench: server.url }, { transport });
  const store = Store.open(dir, "normal");
  const backend = new SqliteBackend(store);
  const reads = { batches: 0 };
  const readBatch = backend.readBatch.bind(backend);
  backend.readBatch = (request) => {
    reads.batches++;
    return readBatch(request);
  };
  const client = createTransport();
  const dispatcher = new Dispatcher({
    store: backend,
    router,
    invoker: new RemoteInvoker(router, client),
    egress: { get: () => undefined },
    ...options,
  });
  t.after(async () => {
    await dispatcher.stop(1000);
    await client.close();
    await server.close();
    store.close();
  });
  await dispatcher.start();
  const count = (id: string) =>
    decodeInt(store.state.read({ fn: "bench/counter", id }, Date.now()).get("count")?.value);
  return { server, store, dispatcher, reads, violations, count };
}

/** Sends 1..n to `id` while the function holds every answer, then lets it answer. */
async function burst(server: FunctionServer, dispatcher: Dispatcher, id: string, n: number) {
  let release = () => {};
  server.hold = new Promise<void>((resolve) => {
    release = resolve;
  });
  for (let value = 1; value <= n; value++) await dispatcher.accept(counterMessage(id, value));
  const heldWhileWaiting = dispatcher.stats().heldMessages;
  server.hold = undefined;
  release();
  await dispatcher.settled();
  return heldWhileWaiting;
}

test("messages dispatch saw arrive are sent without being read back, each once and in order", async (t) => {
  const { server, store, dispatcher, reads, violations, count } = await setUp(t);
  for (let index = 0; index < 30; index++) await dispatcher.accept(counterMessage(`a${index}`, 1));
  await dispatcher.settled();
  // One hot address: its messages pile up behind the batch in flight and go out as batches.
  const held = await burst(server, dispatcher, "hot", 200);

  assert.equal(held, 199, "all but the batch in flight were held");
  assert.equal(dispatcher.stats().heldMessages, 0, "and let go once sent");
  assert.deepEqual(violations, []);
  for (let index = 0; index < 30; index++) assert.equal(count(`a${index}`), 1);
  assert.equal(count("hot"), 200);
  assert.equal(store.messages.count(), 0, "every message consumed");
  assert.equal(reads.batches, 0, "no batch was read back from the store");
  assert.ok(
    server.requests < 200,
    `the hot address's messages went out in batches (${server.requests} calls)`,
  );
});

test("messages beyond what may be held are read back from the store, each once and in order", async (t) => {
  const { server, store, dispatcher, reads, violations, count } = await setUp(t, { maxHeldMessages: 5 });
  await burst(server, dispatcher, "hot", 200);

  assert.deepEqual(violations, []);
  assert.equal(count("hot"), 200);
  assert.equal(store.messages.count(), 0);
  assert.ok(reads.batches > 0, "the backlog was read from the store");
});

test("after a failed batch the address's messages are read from the store, then held again", async (t) => {
  // A 503 fails the batch at once instead of being retried within the call.
  const noRetry = { ...testTransportOptions.retry, retryStatuses: [], retryServerErrors: false };
  const { server, dispatcher, reads, violations, count } = await setUp(
    t,
    { suspendBackoff: { initialMs: 20, maxMs: 40 } },
    { ...testTransportOptions, retry: noRetry },
  );
  server.down = true;
  await dispatcher.accept(counterMessage("x", 1));
  const failedOnce = server.requests;
  for (let tries = 0; server.requests === failedOnce && tries < 200; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  server.down = false;
  // settled() does not wait for a suspended address: its retry comes after the backoff.
  await until("the retried batch to be applied", () => count("x") === 1, { timeoutMs: 10_000 });
  assert.equal(reads.batches, 1, "the retried batch was read back once");

  for (let value = 2; value <= 20; value++) await dispatcher.accept(counterMessage("x", value));
  await dispatcher.settled();
  assert.deepEqual(violations, []);
  assert.equal(count("x"), 20);
  assert.equal(reads.batches, 1, "once read back, later messages went out from hand");
});

test("messages already stored at start-up are read from the store, and new ones go out from hand after", async (t) => {
  const dir = tempDir(t);
  const seeded = Store.open(dir, "normal");
  await seeded.commits.submit(() => {
    for (let value = 1; value <= 3; value++) seeded.messages.insert(counterMessage("old", value), Date.now());
  });
  seeded.close();
  const { dispatcher, reads, violations, count } = await setUp(t, {}, testTransportOptions, dir);
  await dispatcher.settled();
  const readsForBacklog = reads.batches;
  assert.ok(readsForBacklog >= 1);
  for (let value = 4; value <= 10; value++) await dispatcher.accept(counterMessage("old", value));
  await dispatcher.settled();
  assert.deepEqual(violations, []);
  assert.equal(count("old"), 10);
  assert.ok(
    reads.batches <= readsForBacklog + 1,
    `${reads.batches - readsForBacklog} reads after the backlog`,
  );
});
