import assert from "node:assert/strict";
import { test } from "node:test";
import type { FromFunction, ToFunction } from "@switchboard/sdk/protocol";
import { FromFunction_PersistedValueMutation_MutationType as MutationType } from "@switchboard/sdk/protocol";
import { Dispatcher, type DispatcherOptions } from "../src/dispatch/dispatcher.js";
import type { FunctionInvoker } from "../src/invoke/function-invoker.js";
import type { EgressDirectory, EgressSink } from "../src/io/egress-sink.js";
import type { NewMessage } from "../src/store/records.js";
import { SqliteBackend } from "../src/store/sqlite-backend.js";
import { Store } from "../src/store/store.js";
import {
  countInvocations,
  decodeInt,
  encodeInt,
  INT,
  ProtocolFunction,
} from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";
import { namespaceRouter } from "./support/test-router.js";

const noEgress: EgressDirectory = { get: () => undefined };

function message(id: string, fn = "test/counter", value = 0): NewMessage {
  return { target: { fn, id }, argument: { typename: INT, hasValue: true, value: encodeInt(value) } };
}

/** An invoker calling ProtocolFunctions in process; `gate` lets a test hold replies. */
class InProcessInvoker implements FunctionInvoker {
  gate: Promise<void> | undefined;
  constructor(private readonly functions: Record<string, ProtocolFunction>) {}
  async invoke(fn: string, request: ToFunction): Promise<FromFunction> {
    await this.gate;
    const target = this.functions[fn];
    if (!target) throw new Error(`no test function ${fn}`);
    return target.handle(request);
  }
}

async function startDispatcher(
  t: { after(fn: () => unknown): void },
  dataDir: string,
  invoker: FunctionInvoker,
  extra: Partial<DispatcherOptions> = {},
) {
  const store = Store.open(dataDir);
  const dispatcher = new Dispatcher({
    store: new SqliteBackend(store),
    router: namespaceRouter(["test"]),
    invoker,
    egress: noEgress,
    suspendBackoff: { initialMs: 20, maxMs: 100 },
    ...extra,
  });
  await dispatcher.start();
  t.after(async () => {
    await dispatcher.stop(1000);
    store.close();
  });
  return { store, dispatcher };
}

function count(store: Store, id: string, fn = "test/counter"): number {
  return decodeInt(store.state.read({ fn, id }, Date.now()).get("count")?.value);
}

test("missing state is registered and the same invocations are re-sent with it attached", async (t) => {
  const fn = new ProtocolFunction([{ name: "count", typename: INT }]);
  const { store, dispatcher } = await startDispatcher(
    t,
    tempDir(t),
    new InProcessInvoker({ "test/counter": fn }),
  );
  await dispatcher.accept(message("a"));
  await dispatcher.settled();
  assert.deepEqual(fn.seen[0]?.stateNames, []);
  assert.deepEqual(fn.seen[1]?.stateNames, ["count"]);
  assert.equal(fn.seen[1]?.stateValues.get("count"), undefined, "an absent state is sent as a bare name");
  assert.equal(count(store, "a"), 1);
});

test("messages arriving while a batch is in flight go out as one batch, in order", async (t) => {
  const order: number[] = [];
  const fn = new ProtocolFunction([{ name: "count", typename: INT }], (state, invocation) => {
    order.push(decodeInt(invocation.argument?.value));
    countInvocations(state, invocation, { messages: [], delayed: [], egress: [], extraMutations: [] });
  });
  const invoker = new InProcessInvoker({ "test/counter": fn });
  const { store, dispatcher } = await startDispatcher(t, tempDir(t), invoker);
  let open!: () => void;
  invoker.gate = new Promise((resolve) => {
    open = resolve;
  });
  await dispatcher.accept(message("a", "test/counter", 0));
  for (let i = 1; i <= 5; i++) await dispatcher.accept(message("a", "test/counter", i));
  open();
  invoker.gate = undefined;
  await dispatcher.settled();
  const batches = fn.seen
    .filter((request) => request.stateNames.length > 0)
    .map((request) => request.invocations);
  assert.deepEqual(batches, [1, 5]);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  assert.equal(count(store, "a"), 6);
});

test("registered specs survive a restart, so the first batch after it needs no round trip", async (t) => {
  const dir = tempDir(t);
  const first = new ProtocolFunction([{ name: "count", typename: INT }]);
  {
    const store = Store.open(dir);
    const dispatcher = new Dispatcher({
      store: new SqliteBackend(store),
      router: namespaceRouter(["test"]),
      invoker: new InProcessInvoker({ "test/counter": first }),
      egress: noEgress,
    });
    await dispatcher.start();
    await dispatcher.accept(message("a"));
    await dispatcher.settled();
    await dispatcher.stop();
    store.close();
  }
  const second = new ProtocolFunction([{ name: "count", typename: INT }]);
  const { store, dispatcher } = await startDispatcher(
    t,
    dir,
    new InProcessInvoker({ "test/counter": second }),
  );
  await dispatcher.accept(message("a"));
  await dispatcher.settled();
  assert.equal(second.seen.length, 1, "no IncompleteInvocationContext round trip");
  assert.equal(decodeInt(second.seen[0]?.stateValues.get("count")), 1);
  assert.equal(count(store, "a"), 2);
});

test("an address whose backlog reaches maxNumBatchRequests is refused while others are not", async (t) => {
  const fn = new ProtocolFunction([{ name: "count", typename: INT }]);
  const invoker = new InProcessInvoker({ "test/counter": fn });
  const { dispatcher } = await startDispatcher(t, tempDir(t), invoker, {
    router: namespaceRouter(["test"], { maxNumBatchRequests: 3 }),
  });
  let open!: () => void;
  invoker.gate = new Promise((resolve) => {
    open = resolve;
  });
  await dispatcher.accept(message("hot")); // in flight
  for (let i = 0; i < 3; i++) await dispatcher.accept(message("hot"));
  await assert.rejects(dispatcher.accept(message("hot")), { code: "SB_DISPATCH_BACKPRESSURE", status: 429 });
  await dispatcher.accept(message("cold"));
  open();
  invoker.gate = undefined;
  await dispatcher.settled();
  await dispatcher.accept(message("hot"));
  await dispatcher.settled();
});

test("an address owned elsewhere is back-pressured by the count in the store", async (t) => {
  const { store, dispatcher } = await startDispatcher(t, tempDir(t), new InProcessInvoker({}), {
    router: namespaceRouter(["test"], { maxNumBatchRequests: 3 }),
    claim: () => undefined, // this instance owns nothing: no mailbox counts the address
  });
  await Promise.all([dispatcher.accept(message("hot")), dispatcher.accept(message("hot"))]);
  await dispatcher.accept(message("hot"));
  await assert.rejects(dispatcher.accept(message("hot")), { code: "SB_DISPATCH_BACKPRESSURE", status: 429 });
  const racing = await Promise.allSettled([
    dispatcher.accept(message("cold")),
    dispatcher.accept(message("hot")),
  ]);
  assert.deepEqual(
    racing.map((outcome) => outcome.status),
    ["fulfilled", "rejected"],
  );
  assert.equal(
    store.messages.countFor({ fn: "test/counter", id: "hot" }).count,
    3,
    "refused messages are not stored",
  );
});

test("a message for a function type with no endpoint is refused and nothing is stored", async (t) => {
  const { store, dispatcher } = await startDispatcher(t, tempDir(t), new InProcessInvoker({}));
  await assert.rejects(dispatcher.accept(message("a", "nowhere/fn")), {
    code: "SB_DISPATCH_UNKNOWN_FUNCTION",
  });
  assert.equal(store.messages.count(), 0);
});

test("an invalid result is rejected whole: nothing applied, the address suspended, then retried", async (t) => {
  let broken = true;
  const fn = new ProtocolFunction([{ name: "count", typename: INT }], (state, invocation, effects) => {
    countInvocations(state, invocation, effects);
    if (!invocation.caller) {
      effects.messages.push({
        target: { namespace: "test", type: "counter", id: "other" },
        argument: invocation.argument,
      });
    }
    if (broken) {
      effects.extraMutations.push({
        mutationType: MutationType.MODIFY,
        stateName: "nope",
        stateValue: { typename: INT, hasValue: true, value: encodeInt(1) },
      });
    }
  });
  const { store, dispatcher } = await startDispatcher(
    t,
    tempDir(t),
    new InProcessInvoker({ "test/counter": fn }),
    {
      suspendBackoff: { initialMs: 60_000, maxMs: 60_000 },
    },
  );
  await dispatcher.accept(message("a"));
  await dispatcher.settled();
  assert.equal(count(store, "a"), 0);
  assert.equal(count(store, "other"), 0, "the outgoing message of the rejected result was not sent");
  assert.equal(store.messages.count(), 1, "the batch stays stored");
  const [suspended] = dispatcher.suspendedAddresses();
  assert.equal(suspended?.address, "test/counter/a");
  assert.equal(suspended?.lastError?.code, "SB_DISPATCH_UNKNOWN_STATE");
  assert.equal(store.suspensions.all().length, 1);

  broken = false;
  assert.equal(dispatcher.retryNow({ fn: "test/counter", id: "a" }), true);
  await dispatcher.settled();
  await dispatcher.settled();
  assert.equal(count(store, "a"), 1);
  assert.equal(dispatcher.suspendedAddresses().length, 0);
  assert.equal(store.suspensions.all().length, 0);
});

test("a MODIFY with a typename other than the registered one is rejected", async (t) => {
  const fn = new ProtocolFunction([{ name: "count", typename: INT }], (_state, _invocation, effects) => {
    effects.extraMutations.push({
      mutationType: MutationType.MODIFY,
      stateName: "count",
      stateValue: { typename: "io.statefun.types/long", hasValue: true, value: new Uint8Array(0) },
    });
  });
  const { dispatcher } = await startDispatcher(t, tempDir(t), new InProcessInvoker({ "test/counter": fn }));
  await dispatcher.accept(message("a"));
  await dispatcher.settled();
  assert.equal(dispatcher.suspendedAddresses()[0]?.lastError?.code, "SB_DISPATCH_STATE_TYPE_MISMATCH");
});

test("outgoing messages reach their target with the sender as caller", async (t) => {
  const callers: string[] = [];
  const fn = new ProtocolFunction([{ name: "count", typename: INT }], (state, invocation, effects) => {
    countInvocations(state, invocation, effects);
    if (invocation.caller)
      callers.push(`${invocation.caller.namespace}/${invocation.caller.type}/${invocation.caller.id}`);
    else
      effects.messages.push({
        target: { namespace: "test", type: "counter", id: "b" },
        argument: invocation.argument,
      });
  });
  const { store, dispatcher } = await startDispatcher(
    t,
    tempDir(t),
    new InProcessInvoker({ "test/counter": fn }),
  );
  await dispatcher.accept(message("a"));
  await dispatcher.settled();
  await dispatcher.settled();
  assert.equal(count(store, "b"), 1);
  assert.deepEqual(callers, ["test/counter/a"]);
});

test("settled waits for an address whose backlog count is still being read", async (t) => {
  const fn = new ProtocolFunction([{ name: "count", typename: INT }], (state, invocation, effects) => {
    countInvocations(state, invocation, effects);
    if (!invocation.caller)
      effects.messages.push({
        target: { namespace: "test", type: "counter", id: "b" },
        argument: invocation.argument,
      });
  });
  const dir = tempDir(t);
  const store = Store.open(dir);
  const backend = new SqliteBackend(store);
  // A slow count: the address the reply wrote to is being admitted when the sender's batch ends.
  const count = backend.messages.count.bind(backend.messages);
  backend.messages.count = async (address) => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return count(address);
  };
  const dispatcher = new Dispatcher({
    store: backend,
    router: namespaceRouter(["test"]),
    invoker: new InProcessInvoker({ "test/counter": fn }),
    egress: noEgress,
  });
  await dispatcher.start();
  t.after(async () => {
    await dispatcher.stop(1000);
    store.close();
  });
  await dispatcher.accept(message("a"));
  await dispatcher.settled();
  assert.equal(
    decodeInt(store.state.read({ fn: "test/counter", id: "b" }, Date.now()).get("count")?.value),
    1,
  );
});

test("delayed messages fire after their delay; a cancelled token never fires", async (t) => {
  const fired: string[] = [];
  const fn = new ProtocolFunction([{ name: "count", typename: INT }], (state, invocation, effects) => {
    countInvocations(state, invocation, effects);
    if (invocation.caller) {
      fired.push(String(decodeInt(invocation.argument?.value)));
      return;
    }
    const target = { namespace: "test", type: "counter", id: "late" };
    effects.delayed.push({
      delayInMs: 40n,
      target,
      argument: { typename: INT, hasValue: true, value: encodeInt(1) },
    });
    effects.delayed.push({
      delayInMs: 40n,
      cancellationToken: "t2",
      target,
      argument: { typename: INT, hasValue: true, value: encodeInt(2) },
    });
    effects.delayed.push({ isCancellationRequest: true, cancellationToken: "t2" });
    effects.delayed.push({ isCancellationRequest: true, cancellationToken: "unknown" });
  });
  const { store, dispatcher } = await startDispatcher(
    t,
    tempDir(t),
    new InProcessInvoker({ "test/counter": fn }),
  );
  await dispatcher.accept(message("a"));
  await dispatcher.settled();
  assert.equal(store.timers.count(), 1);
  for (let i = 0; i < 100 && fired.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  await dispatcher.settled();
  assert.deepEqual(fired, ["1"]);
  assert.equal(store.timers.count(), 0);
});

test("re-using a pending cancellation token replaces the pending message", async (t) => {
  const fn = new ProtocolFunction([{ name: "count", typename: INT }], (_state, invocation, effects) => {
    if (invocation.caller) return;
    const target = { namespace: "test", type: "counter", id: "late" };
    effects.delayed.push({
      delayInMs: 60_000n,
      cancellationToken: "t",
      target,
      argument: { typename: INT, hasValue: true, value: encodeInt(decodeInt(invocation.argument?.value)) },
    });
  });
  const { store, dispatcher } = await startDispatcher(
    t,
    tempDir(t),
    new InProcessInvoker({ "test/counter": fn }),
  );
  await dispatcher.accept(message("a", "test/counter", 1));
  await dispatcher.settled();
  await dispatcher.accept(message("a", "test/counter", 2));
  await dispatcher.settled();
  const timers = store.timers.forSender({ fn: "test/counter", id: "a" });
  assert.equal(timers.length, 1);
  assert.equal(decodeInt(timers[0]?.message.argument.value), 2);
});

test("AFTER_WRITE state expires and is then sent as a bare name", async (t) => {
  let now = 1_000_000;
  const fn = new ProtocolFunction([{ name: "count", typename: INT, expireAfterWriteMs: 1000 }]);
  const { dispatcher } = await startDispatcher(t, tempDir(t), new InProcessInvoker({ "test/counter": fn }), {
    clock: () => now,
  });
  await dispatcher.accept(message("a"));
  await dispatcher.settled();
  now += 500;
  await dispatcher.accept(message("a"));
  await dispatcher.settled();
  assert.equal(decodeInt(fn.seen.at(-1)?.stateValues.get("count")), 1, "still live after 500 ms");
  now += 1500;
  await dispatcher.accept(message("a"));
  await dispatcher.settled();
  assert.equal(fn.seen.at(-1)?.stateValues.get("count"), undefined, "expired 1000 ms after the last write");
});

test("AFTER_INVOKE state stays alive while invoked and expires when left alone", async (t) => {
  let now = 1_000_000;
  const fn = new ProtocolFunction(
    [{ name: "count", typename: INT, expireAfterInvokeMs: 1000 }],
    (state, invocation, effects) => {
      if (!state.get("count")) countInvocations(state, invocation, effects); // write once, then only read
    },
  );
  const { dispatcher } = await startDispatcher(t, tempDir(t), new InProcessInvoker({ "test/counter": fn }), {
    clock: () => now,
  });
  await dispatcher.accept(message("a"));
  await dispatcher.settled();
  for (let i = 0; i < 3; i++) {
    now += 800;
    await dispatcher.accept(message("a"));
    await dispatcher.settled();
    assert.equal(decodeInt(fn.seen.at(-1)?.stateValues.get("count")), 1, `alive after invocation ${i}`);
  }
  now += 1500;
  await dispatcher.accept(message("a"));
  await dispatcher.settled();
  assert.equal(fn.seen.at(-1)?.stateValues.get("count"), undefined);
});

test("egress records are validated by their sink and committed with the result", async (t) => {
  const notified: string[] = [];
  const sink: EgressSink = {
    id: "test/out",
    kind: "test",
    accept: (value) => ({ egress: "test/out", typename: value.typename, value: value.value }),
    notify: () => notified.push("test/out"),
    start: async () => {},
    stop: async () => {},
  };
  const fn = new ProtocolFunction([{ name: "count", typename: INT }], (state, invocation, effects) => {
    countInvocations(state, invocation, effects);
    effects.egress.push({ egressNamespace: "test", egressType: "out", argument: invocation.argument });
    if (decodeInt(invocation.argument?.value) === 9)
      effects.egress.push({ egressNamespace: "test", egressType: "missing", argument: invocation.argument });
  });
  const { store, dispatcher } = await startDispatcher(
    t,
    tempDir(t),
    new InProcessInvoker({ "test/counter": fn }),
    {
      egress: { get: (id) => (id === "test/out" ? sink : undefined) },
    },
  );
  await dispatcher.accept(message("a", "test/counter", 1));
  await dispatcher.settled();
  assert.equal(store.egress.count(), 1);
  assert.deepEqual(notified, ["test/out"]);
  await dispatcher.accept(message("b", "test/counter", 9));
  await dispatcher.settled();
  assert.equal(store.egress.count(), 1, "a result naming an unknown egress adds no record");
  assert.equal(dispatcher.suspendedAddresses()[0]?.lastError?.code, "SB_DISPATCH_UNKNOWN_EGRESS");
});

test("an empty reply means no side effects and consumes the batch", async (t) => {
  const invoker: FunctionInvoker = {
    invoke: async () => ({ response: { case: undefined } }) as FromFunction,
  };
  const { store, dispatcher } = await startDispatcher(t, tempDir(t), invoker);
  await dispatcher.accept(message("a"));
  await dispatcher.settled();
  assert.equal(store.messages.count(), 0);
  assert.equal(dispatcher.suspendedAddresses().length, 0);
});

test("a delayed message pending when the runtime stops fires once after the restart, with the sender as caller", async (t) => {
  const dir = tempDir(t);
  const callers: string[] = [];
  const fn = new ProtocolFunction([{ name: "count", typename: INT }], (state, invocation, effects) => {
    countInvocations(state, invocation, effects);
    if (invocation.caller) {
      callers.push(`${invocation.caller.namespace}/${invocation.caller.type}/${invocation.caller.id}`);
      return;
    }
    effects.delayed.push({
      delayInMs: 300n,
      target: { namespace: "test", type: "counter", id: "late" },
      argument: { typename: INT, hasValue: true, value: encodeInt(1) },
    });
  });
  const invoker = new InProcessInvoker({ "test/counter": fn });
  const first = Store.open(dir);
  const before = new Dispatcher({
    store: new SqliteBackend(first),
    router: namespaceRouter(["test"]),
    invoker,
    egress: noEgress,
  });
  await before.start();
  await before.accept(message("a"));
  await before.settled();
  await before.stop(1000);
  first.close();
  assert.deepEqual(callers, [], "stopped before the delay passed");

  const { store, dispatcher } = await startDispatcher(t, dir, invoker);
  assert.equal(store.timers.count(), 1, "the timer survived the restart");
  for (let i = 0; i < 300 && callers.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  await dispatcher.settled();
  assert.deepEqual(callers, ["test/counter/a"]);
  assert.equal(count(store, "late"), 1);
  assert.equal(store.timers.count(), 0);
});
