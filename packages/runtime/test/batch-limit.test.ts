import assert from "node:assert/strict";
import { test } from "node:test";
import { Dispatcher } from "../src/dispatch/dispatcher.js";
import { RemoteInvoker } from "../src/invoke/remote-invoker.js";
import { SqliteBackend } from "../src/store/sqlite-backend.js";
import { Store } from "../src/store/store.js";
import { createTransport } from "../src/transport/index.js";
import { startFunctionServer } from "./support/function-server.js";
import { decodeInt, encodeInt, INT, ProtocolFunction } from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";
import { namespaceRouter } from "./support/test-router.js";

test("a batch read from the store takes an address's oldest messages, up to each endpoint's own limit or all of them when it sets none", async (t) => {
  const store = Store.open(tempDir(t), "normal");
  t.after(() => store.close());
  const address = { fn: "ns/f", id: "a" };
  await store.commits.submit(() => {
    for (let value = 1; value <= 5; value++) {
      store.messages.insert(
        { target: address, argument: { typename: INT, hasValue: true, value: encodeInt(value) } },
        0,
      );
    }
    store.messages.insert(
      { target: { fn: "ns/f", id: "b" }, argument: { typename: INT, hasValue: true, value: encodeInt(9) } },
      0,
    );
  });
  const values = (limit: number) =>
    store.messages.headOf(address, limit).map((message) => decodeInt(message.argument.value));
  assert.deepEqual(values(2), [1, 2]);
  assert.deepEqual(values(3), [1, 2, 3], "a second limit has its own statement");
  assert.deepEqual(values(2), [1, 2]);
  assert.deepEqual(
    values(Number.POSITIVE_INFINITY),
    [1, 2, 3, 4, 5],
    "no limit: every message of the address",
  );
});

test("an endpoint without a batch limit (maxNumBatchRequests <= 0) gets its messages, all pending ones in one batch", async (t) => {
  const batches: number[] = [];
  const server = await startFunctionServer({
    "unlimited/counter": new ProtocolFunction([{ name: "count", typename: INT }], (state, invocation) => {
      state.set("count", encodeInt(decodeInt(state.get("count")) + decodeInt(invocation.argument?.value)));
    }),
  });
  t.after(() => server.close());
  let release = () => {};
  server.hold = new Promise<void>((resolve) => {
    release = resolve;
  });
  t.after(() => release());
  const router = namespaceRouter(["unlimited"], {
    baseUrl: server.url,
    maxNumBatchRequests: Number.POSITIVE_INFINITY,
  });
  const store = Store.open(tempDir(t), "normal");
  const transport = createTransport();
  const dispatcher = new Dispatcher({
    store: new SqliteBackend(store),
    router,
    invoker: new RemoteInvoker(router, transport),
    egress: { get: () => undefined },
    observer: {
      accepted() {},
      applied: (_fn, messages) => batches.push(messages),
      failed() {},
    },
  });
  t.after(async () => {
    await dispatcher.stop(1000);
    await transport.close();
    store.close();
  });
  await dispatcher.start();
  const send = (value: number) =>
    dispatcher.accept({
      target: { fn: "unlimited/counter", id: "a" },
      argument: { typename: INT, hasValue: true, value: encodeInt(value) },
    });
  // The first batch is held at the server while four more messages arrive.
  await send(1);
  const deadline = Date.now() + 10_000;
  while (server.requests === 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 5));
  for (let value = 2; value <= 5; value++) await send(value);
  server.hold = undefined;
  release();
  await dispatcher.settled();
  const count = decodeInt(
    store.state.read({ fn: "unlimited/counter", id: "a" }, Date.now()).get("count")?.value,
  );
  assert.equal(count, 15, "every message applied");
  assert.deepEqual(batches, [1, 4]);
});
