import assert from "node:assert/strict";
import { test } from "node:test";
import { Dispatcher } from "../src/dispatch/dispatcher.js";
import { RemoteInvoker } from "../src/invoke/remote-invoker.js";
import { SqliteBackend } from "../src/store/sqlite-backend.js";
import { Store } from "../src/store/store.js";
import { createTransport } from "../src/transport/index.js";
import { startFunctionServer } from "./support/function-server.js";
import {
  countInvocations,
  decodeInt,
  encodeInt,
  INT,
  ProtocolFunction,
} from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";
import { endpointsRouter, testTransportOptions } from "./support/test-router.js";
import { until } from "./support/until.js";

/** How the waits in this file poll. */
const POLL = { timeoutMs: 20_000 };

test("an endpoint down for a while suspends only its addresses, is retried with backoff by itself, and on recovery gets everything in order as one batch", async (t) => {
  const arguments_: number[][] = [];
  const flaky = new ProtocolFunction([{ name: "count", typename: INT }], (state, invocation, effects) => {
    countInvocations(state, invocation, effects);
    arguments_.at(-1)?.push(decodeInt(invocation.argument?.value));
  });
  const flakyServer = await startFunctionServer({ "flaky/counter": flaky });
  const steadyServer = await startFunctionServer({
    "steady/counter": new ProtocolFunction([{ name: "count", typename: INT }]),
  });
  t.after(() => Promise.all([flakyServer.close(), steadyServer.close()]));
  // While the endpoint is down, every call fails after a second of retries. Shorter limits
  // also cut off answered calls on a loaded machine, and a retried batch is seen twice.
  const router = endpointsRouter(
    { flaky: flakyServer.url, steady: steadyServer.url },
    { transport: { ...testTransportOptions, callTimeoutMs: 1000 } },
  );
  const store = Store.open(tempDir(t));
  const transport = createTransport();
  const dispatcher = new Dispatcher({
    store: new SqliteBackend(store),
    router,
    invoker: new RemoteInvoker(router, transport),
    egress: { get: () => undefined },
    suspendBackoff: { initialMs: 50, maxMs: 200 },
  });
  await dispatcher.start();
  t.after(async () => {
    await dispatcher.stop(1000);
    await transport.close();
    store.close();
  });
  const send = (fn: string, id: string, value: number) =>
    dispatcher.accept({
      target: { fn, id },
      argument: { typename: INT, hasValue: true, value: encodeInt(value) },
    });
  const count = (fn: string, id: string) =>
    decodeInt(store.state.read({ fn, id }, Date.now()).get("count")?.value);

  // Register the state spec while the endpoint is up, so later batches carry real work.
  arguments_.push([]);
  await send("flaky/counter", "a", 0);
  await dispatcher.settled();
  assert.equal(count("flaky/counter", "a"), 1);

  flakyServer.down = true;
  await send("flaky/counter", "a", 1);
  await until(
    "the address to be suspended",
    () => (dispatcher.suspendedAddresses()[0]?.failures ?? 0) >= 1,
    POLL,
  );
  await send("flaky/counter", "a", 2);
  await send("flaky/counter", "a", 3);
  for (let i = 0; i < 5; i++) await send("steady/counter", "x", i);
  await until("the other endpoint's address to keep flowing", () => count("steady/counter", "x") === 5, POLL);
  await until("retries with backoff", () => (dispatcher.suspendedAddresses()[0]?.failures ?? 0) >= 3, POLL);
  assert.equal(count("flaky/counter", "a"), 1, "nothing applied while down");
  assert.equal(store.messages.count(), 3, "the messages stay stored while down");
  assert.equal(dispatcher.stats().suspended, 1);

  arguments_.push([]);
  flakyServer.down = false;
  await until(
    "the backlog to be applied after recovery, without a manual retry",
    () => store.messages.count() === 0,
    POLL,
  );
  await dispatcher.settled();
  assert.equal(count("flaky/counter", "a"), 4);
  assert.deepEqual(arguments_.at(-1), [1, 2, 3], "one batch, in arrival order");
  assert.equal(dispatcher.suspendedAddresses().length, 0);
  assert.equal(store.suspensions.all().length, 0, "the suspension record is cleared");
});
