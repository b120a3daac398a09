import assert from "node:assert/strict";
import { test } from "node:test";
import { Dispatcher } from "../src/dispatch/dispatcher.js";
import { RemoteInvoker } from "../src/invoke/remote-invoker.js";
import { SqliteBackend } from "../src/store/sqlite-backend.js";
import { Store } from "../src/store/store.js";
import { createTransport } from "../src/transport/index.js";
import { startFunctionServer } from "./support/function-server.js";
import { decodeInt, encodeInt, INT, orderedCounter, ProtocolFunction } from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";
import { endpointsRouter, testTransportOptions } from "./support/test-router.js";
import { until } from "./support/until.js";

const counterMessage = (fn: string, id: string, value: number) => ({
  target: { fn, id },
  argument: { typename: INT, hasValue: true, value: encodeInt(value) },
});

test("a function's new messages are applied while another function's large stored backlog is still draining, each in order", async (t) => {
  const violations: string[] = [];
  const counter = () => new ProtocolFunction([{ name: "count", typename: INT }], orderedCounter(violations));
  const bulkServer = await startFunctionServer({ "bulk/counter": counter() });
  const liveServer = await startFunctionServer({ "live/counter": counter() });
  t.after(() => Promise.all([bulkServer.close(), liveServer.close()]));
  const transport = { ...testTransportOptions, callTimeoutMs: 5000, connectTimeoutMs: 3000 };
  const router = endpointsRouter({ bulk: bulkServer.url, live: liveServer.url }, { transport });

  // A backlog of one message each for 2,000 addresses, as an endpoint back from an outage
  // finds it, and an endpoint that answers slowly: draining it takes many seconds.
  const dir = tempDir(t);
  const seeded = Store.open(dir, "normal");
  const queued = 2000;
  await seeded.commits.submit(() => {
    for (let index = 0; index < queued; index++) {
      seeded.messages.insert(counterMessage("bulk/counter", `b${index}`, 1), Date.now());
    }
  });
  seeded.close();
  bulkServer.delayMs = 40;

  const store = Store.open(dir, "normal");
  const client = createTransport();
  const dispatcher = new Dispatcher({
    store: new SqliteBackend(store),
    router,
    invoker: new RemoteInvoker(router, client),
    egress: { get: () => undefined },
    maxInFlight: 8,
    maxActiveAddresses: 256,
  });
  t.after(async () => {
    await dispatcher.stop(1000);
    await client.close();
    store.close();
  });
  await dispatcher.start();
  await until("the backlog to start draining", () => dispatcher.stats().applied > 0, { timeoutMs: 30_000 });

  // New messages for another function, for more addresses than there are in-flight slots.
  const live = 40;
  for (let round = 1; round <= 2; round++) {
    for (let index = 0; index < live; index++) {
      await dispatcher.accept(counterMessage("live/counter", `l${index}`, round));
    }
  }
  const count = (fn: string, id: string) =>
    decodeInt(store.state.read({ fn, id }, Date.now()).get("count")?.value);
  const liveApplied = () => {
    let done = 0;
    for (let index = 0; index < live; index++) if (count("live/counter", `l${index}`) === 2) done++;
    return done;
  };
  await until("the live function's messages to be applied", () => liveApplied() === live, {
    timeoutMs: 60_000,
  });
  const bulkLeft = store.messages.count();
  assert.ok(
    bulkLeft > queued / 2,
    `the live function did not wait for the backlog: ${bulkLeft} of ${queued} backlog messages still stored`,
  );

  bulkServer.delayMs = 0;
  await until("the backlog to drain", () => store.messages.count() === 0, { timeoutMs: 60_000 });
  await dispatcher.settled();
  for (let index = 0; index < queued; index += 97) assert.equal(count("bulk/counter", `b${index}`), 1);
  assert.deepEqual(violations, []);
});
