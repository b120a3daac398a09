import assert from "node:assert/strict";
import { test } from "node:test";
import type { FunctionRouter } from "../src/config/model.js";
import { Dispatcher } from "../src/dispatch/dispatcher.js";
import type { Logger } from "../src/dispatch/logger.js";
import { RemoteInvoker } from "../src/invoke/remote-invoker.js";
import { SqliteBackend } from "../src/store/sqlite-backend.js";
import { Store } from "../src/store/store.js";
import { createTransport } from "../src/transport/index.js";
import { type FunctionServer, startFunctionServer } from "./support/function-server.js";
import { decodeInt, encodeInt, INT, orderedCounter, ProtocolFunction } from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";
import { endpointsRouter, namespaceRouter, testTransportOptions } from "./support/test-router.js";
import { until } from "./support/until.js";

/** How the waits in this file poll. */
const POLL = { timeoutMs: 30_000 };

/** A logger that keeps every warning and error line. */
function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    info() {},
    debug() {},
    warn(_object, message) {
      lines.push(`warn ${message ?? ""}`);
    },
    error(_object, message) {
      lines.push(`error ${message ?? ""}`);
    },
    child: () => logger,
  };
  return logger;
}

function twoEndpointRouter(flaky: FunctionServer, steady: FunctionServer): FunctionRouter {
  // Loopback connects take microseconds; a 500 ms connect timeout only fires when a loaded
  // machine stalls the event loop, and those failures are not the endpoint being down.
  const transport = { ...testTransportOptions, callTimeoutMs: 5000, connectTimeoutMs: 3000 };
  return endpointsRouter({ flaky: flaky.url, steady: steady.url }, { transport });
}

test("an endpoint failing for a thousand addresses is backed off as a whole: few calls, a bounded log, other functions unaffected, everything applied once and in order after it returns", async (t) => {
  const violations: string[] = [];
  const flakyServer = await startFunctionServer({
    "flaky/counter": new ProtocolFunction([{ name: "count", typename: INT }], orderedCounter(violations)),
  });
  const steadyServer = await startFunctionServer({
    "steady/counter": new ProtocolFunction([{ name: "count", typename: INT }], orderedCounter(violations)),
  });
  t.after(() => Promise.all([flakyServer.close(), steadyServer.close()]));
  const router = twoEndpointRouter(flakyServer, steadyServer);
  const store = Store.open(tempDir(t), "normal");
  const transport = createTransport();
  const lines: string[] = [];
  const maxActiveAddresses = 200;
  const dispatcher = new Dispatcher({
    store: new SqliteBackend(store),
    router,
    invoker: new RemoteInvoker(router, transport),
    egress: { get: () => undefined },
    logger: recordingLogger(lines),
    maxActiveAddresses,
    endpointBreaker: { probeInitialMs: 100, probeMaxMs: 400, reportIntervalMs: 60_000 },
  });
  await dispatcher.start();
  t.after(async () => {
    await dispatcher.stop(1000);
    await transport.close();
    store.close();
  });
  const sent = new Map<string, number>();
  const send = (fn: string, id: string) => {
    const key = `${fn}/${id}`;
    const value = (sent.get(key) ?? 0) + 1;
    sent.set(key, value);
    return dispatcher.accept({
      target: { fn, id },
      argument: { typename: INT, hasValue: true, value: encodeInt(value) },
    });
  };
  const count = (key: string) => {
    const slash = key.lastIndexOf("/");
    return decodeInt(
      store.state.read({ fn: key.slice(0, slash), id: key.slice(slash + 1) }, Date.now()).get("count")?.value,
    );
  };

  flakyServer.down = true;
  const ids = Array.from({ length: 1000 }, (_, index) => `k${index}`);
  for (let round = 0; round < 2; round++) {
    for (let start = 0; start < ids.length; start += 100) {
      await Promise.all(ids.slice(start, start + 100).map((id) => send("flaky/counter", id)));
    }
  }
  await until("the endpoint to be marked down", () => dispatcher.endpointsDown().length === 1, POLL);
  await until("calls to the failing endpoint to be abandoned", () => dispatcher.stats().inFlight <= 1, {
    timeoutMs: 5000,
  });

  // While it is down: only probes reach it, and the other endpoint's addresses flow as usual.
  const requestsBefore = flakyServer.requests;
  const held: number[] = [];
  const sampler = setInterval(() => held.push(dispatcher.stats().addresses), 5);
  for (let index = 0; index < 200; index++) await send("steady/counter", `s${index % 50}`);
  await until("the other endpoint's messages to be applied", () => count("steady/counter/s0") === 4, POLL);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  clearInterval(sampler);
  const probeRequests = flakyServer.requests - requestsBefore;
  assert.ok(probeRequests <= 15, `only probes reach the failing endpoint (saw ${probeRequests} requests)`);
  assert.ok(
    Math.max(...held) <= maxActiveAddresses,
    `addresses in memory stay bounded (at most ${Math.max(...held)})`,
  );
  for (let index = 0; index < 50; index++) assert.equal(count(`steady/counter/s${index}`), 4);
  assert.equal(dispatcher.stats().suspended, 0, "no address was suspended on its own");

  // Still accepted while it is down (durably, into the store).
  for (const id of ids.slice(0, 100)) await send("flaky/counter", id);

  flakyServer.down = false;
  await until("the whole backlog to be applied after recovery", () => store.messages.count() === 0, POLL);
  await dispatcher.settled();
  for (const [key, expected] of sent) assert.equal(count(key), expected, `${key} applied exactly once each`);
  assert.deepEqual(violations, [], "every address saw its messages in order");
  assert.equal(dispatcher.endpointsDown().length, 0);
  assert.ok(
    lines.length <= 10,
    `a bounded log for one endpoint being down (${lines.length} lines: ${lines.join("; ")})`,
  );
});

test("start-up reads a large stored backlog a page at a time, holding only the configured number of addresses, and drains it all", async (t) => {
  const violations: string[] = [];
  const server = await startFunctionServer({
    "steady/counter": new ProtocolFunction([{ name: "count", typename: INT }], orderedCounter(violations)),
  });
  t.after(() => server.close());
  const router = namespaceRouter(["steady"], { baseUrl: server.url });
  const dir = tempDir(t);
  const seeded = Store.open(dir, "normal");
  const addresses = 3000;
  await seeded.commits.submit(() => {
    for (let round = 1; round <= 2; round++) {
      for (let index = 0; index < addresses; index++) {
        seeded.messages.insert(
          {
            target: { fn: "steady/counter", id: `a${index}` },
            argument: { typename: INT, hasValue: true, value: encodeInt(round) },
          },
          Date.now(),
        );
      }
    }
  });
  seeded.close();

  const store = Store.open(dir, "normal");
  const transport = createTransport();
  const maxActiveAddresses = 64;
  const dispatcher = new Dispatcher({
    store: new SqliteBackend(store),
    router,
    invoker: new RemoteInvoker(router, transport),
    egress: { get: () => undefined },
    maxActiveAddresses,
  });
  t.after(async () => {
    await dispatcher.stop(1000);
    await transport.close();
    store.close();
  });
  await dispatcher.start();
  assert.equal(dispatcher.stats().addresses, 0, "start() itself loads no message");
  let most = 0;
  const sampler = setInterval(() => {
    most = Math.max(most, dispatcher.stats().addresses);
  }, 2);
  await until("the stored backlog to drain", () => store.messages.count() === 0, POLL);
  clearInterval(sampler);
  await dispatcher.settled();
  assert.ok(most <= maxActiveAddresses, `at most ${maxActiveAddresses} addresses held (saw ${most})`);
  for (let index = 0; index < addresses; index += 97) {
    assert.equal(
      decodeInt(store.state.read({ fn: "steady/counter", id: `a${index}` }, Date.now()).get("count")?.value),
      2,
    );
  }
  assert.deepEqual(violations, []);
});

test("start-up with a large backlog behind a down endpoint does not read that backlog into memory: its rows are left out of the scan, the other endpoint's messages flow, and everything drains once it returns", async (t) => {
  const violations: string[] = [];
  const flakyServer = await startFunctionServer({
    "flaky/counter": new ProtocolFunction([{ name: "count", typename: INT }], orderedCounter(violations)),
  });
  const steadyServer = await startFunctionServer({
    "steady/counter": new ProtocolFunction([{ name: "count", typename: INT }], orderedCounter(violations)),
  });
  t.after(() => Promise.all([flakyServer.close(), steadyServer.close()]));
  const router = twoEndpointRouter(flakyServer, steadyServer);
  const dir = tempDir(t);
  const seeded = Store.open(dir, "normal");
  const queued = 20_000;
  await seeded.commits.submit(() => {
    for (let index = 0; index < queued; index++) {
      seeded.messages.insert(
        {
          target: { fn: "flaky/counter", id: `a${index}` },
          argument: { typename: INT, hasValue: true, value: encodeInt(1) },
        },
        Date.now(),
      );
    }
  });
  seeded.close();

  const store = Store.open(dir, "normal");
  const backend = new SqliteBackend(store);
  // Every row a backlog read hands to JS, whichever read dispatch uses.
  let rowsRead = 0;
  const { pageAfter, pageAfterSkipping } = backend.messages;
  backend.messages.pageAfter = async (afterSeq, limit) => {
    const rows = await pageAfter(afterSeq, limit);
    rowsRead += rows.length;
    return rows;
  };
  backend.messages.pageAfterSkipping = async (afterSeq, limit, skipTypes) => {
    const page = await pageAfterSkipping(afterSeq, limit, skipTypes);
    rowsRead += page.rows.length;
    return page;
  };
  const transport = createTransport();
  const dispatcher = new Dispatcher({
    store: backend,
    router,
    invoker: new RemoteInvoker(router, transport),
    egress: { get: () => undefined },
    maxActiveAddresses: 64,
    endpointBreaker: { probeInitialMs: 100, probeMaxMs: 400, reportIntervalMs: 60_000 },
  });
  t.after(async () => {
    await dispatcher.stop(1000);
    await transport.close();
    store.close();
  });
  flakyServer.down = true;
  await dispatcher.start();
  await until("the endpoint to be marked down", () => dispatcher.endpointsDown().length === 1, POLL);
  for (let index = 0; index < 20; index++) {
    await dispatcher.accept({
      target: { fn: "steady/counter", id: `s${index}` },
      argument: { typename: INT, hasValue: true, value: encodeInt(1) },
    });
  }
  const count = (fn: string, id: string) =>
    decodeInt(store.state.read({ fn, id }, Date.now()).get("count")?.value);
  await until(
    "the other endpoint's messages to be applied",
    () => count("steady/counter", "s19") === 1,
    POLL,
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.ok(
    rowsRead < queued / 4,
    `the parked backlog stays in the store (${rowsRead} rows read for ${queued} queued)`,
  );
  // Accepted while it is down, after the scan has moved past the parked rows: found again on recovery.
  for (let index = 0; index < 50; index++) {
    await dispatcher.accept({
      target: { fn: "flaky/counter", id: `late${index}` },
      argument: { typename: INT, hasValue: true, value: encodeInt(1) },
    });
  }

  flakyServer.down = false;
  await until("the parked backlog to drain after recovery", () => store.messages.count() === 0, {
    timeoutMs: 60_000,
  });
  await dispatcher.settled();
  for (let index = 0; index < queued; index += 997) assert.equal(count("flaky/counter", `a${index}`), 1);
  for (let index = 0; index < 50; index++) assert.equal(count("flaky/counter", `late${index}`), 1);
  assert.deepEqual(violations, []);
});

test("stop() abandons a call that outlives the grace period: it resolves in time, logs nothing, and the batch stays stored", async (t) => {
  const server = await startFunctionServer({
    "steady/counter": new ProtocolFunction([{ name: "count", typename: INT }]),
  });
  t.after(() => server.close());
  server.hold = new Promise(() => {});
  const router = namespaceRouter(["steady"], {
    baseUrl: server.url,
    transport: { ...testTransportOptions, callTimeoutMs: 60_000 },
  });
  const dir = tempDir(t);
  const store = Store.open(dir, "normal");
  const transport = createTransport();
  const lines: string[] = [];
  const dispatcher = new Dispatcher({
    store: new SqliteBackend(store),
    router,
    invoker: new RemoteInvoker(router, transport),
    egress: { get: () => undefined },
    logger: recordingLogger(lines),
  });
  await dispatcher.start();
  await dispatcher.accept({
    target: { fn: "steady/counter", id: "x" },
    argument: { typename: INT, hasValue: true, value: encodeInt(1) },
  });
  await until("the call to be in flight", () => server.requests === 1, POLL);
  const started = Date.now();
  await dispatcher.stop(200);
  assert.ok(Date.now() - started < 2000, "stop() is bounded by its grace period");
  await new Promise((resolve) => setTimeout(resolve, 100));
  store.close();
  await transport.close();
  assert.deepEqual(lines, [], "an abandoned call is not reported as a failure");
  const reopened = Store.open(dir, "normal");
  assert.equal(reopened.messages.count(), 1, "the batch stays stored for the next start");
  reopened.close();
});
