/**
 * Dispatch on a cluster: two dispatchers in this process, each on its own ClusterMember of one
 * PostgreSQL database, as two instances would run. Messages are accepted on either; each
 * address is dispatched only by its partition's owner, exactly once and in order.
 */
import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import type { FromFunction, ToFunction } from "@switchboard/sdk/protocol";
import { ClusterMember } from "../src/cluster/cluster-member.js";
import { Dispatcher } from "../src/dispatch/dispatcher.js";
import { silentLogger } from "../src/dispatch/logger.js";
import type { FunctionInvoker, InvocationCall } from "../src/invoke/function-invoker.js";
import type { NewMessage } from "../src/store/records.js";
import { createTestDatabase } from "./support/postgres-database.js";
import { type Behaviour, decodeInt, encodeInt, INT, ProtocolFunction } from "./support/protocol-function.js";
import { namespaceRouter } from "./support/test-router.js";
import { until } from "./support/until.js";

/** How the waits in this file poll. */
const POLL = { timeoutMs: 20_000, intervalMs: 50 };

const FN = "test/ordered";

/** Keeps the last value applied; counts every value that does not follow the last by one. */
const ordered: Behaviour = (state, invocation) => {
  const value = decodeInt(invocation.argument?.value);
  if (value !== decodeInt(state.get("last")) + 1) {
    state.set("bad", encodeInt(decodeInt(state.get("bad")) + 1));
  }
  state.set("last", encodeInt(value));
};

class Invoker implements FunctionInvoker {
  /** While set, calls wait for it (an instance whose endpoint hangs). */
  gate: Promise<void> | undefined;
  private readonly fn = new ProtocolFunction(
    [
      { name: "last", typename: INT },
      { name: "bad", typename: INT },
    ],
    ordered,
  );
  async invoke(_fn: string, request: ToFunction, call?: InvocationCall): Promise<FromFunction> {
    if (this.gate) {
      await Promise.race([
        this.gate,
        new Promise((_, reject) => call?.cancel?.onAbort(() => reject(new Error("abandoned")))),
      ]);
    }
    return this.fn.handle(request);
  }
}

interface Instance {
  readonly member: ClusterMember;
  readonly dispatcher: Dispatcher;
  readonly invoker: Invoker;
  stop(): Promise<void>;
}

/** A fresh database, and a way to start instances on it that all stop before it is dropped. */
async function testCluster(t: TestContext, label: string) {
  const instances: Instance[] = [];
  // Registered before the database's drop, so it runs first.
  t.after(async () => {
    for (const instance of instances) await instance.stop();
  });
  const { url } = await createTestDatabase(label, t);
  return {
    start: async (name: string) => {
      const instance = await startInstance(url, name);
      instances.push(instance);
      return instance;
    },
  };
}

async function startInstance(url: string, name: string): Promise<Instance> {
  const member = await ClusterMember.join({
    url,
    partitions: 16,
    instanceId: name,
    leaseMs: 3000,
    logger: silentLogger,
  });
  const invoker = new Invoker();
  const dispatcher = new Dispatcher({
    store: member.backend,
    claim: member.claim,
    router: namespaceRouter(["test"]),
    invoker,
    egress: { get: () => undefined },
    suspendBackoff: { initialMs: 20, maxMs: 100 },
  });
  await dispatcher.start();
  await member.attach({
    gained: () => void dispatcher.ownershipGained(),
    lost: () => dispatcher.ownershipLost(),
    storedElsewhere: (fromSeq) => dispatcher.messagesStoredElsewhere(fromSeq),
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await dispatcher.stop(100);
    await member.leave();
  };
  return { member, dispatcher, invoker, stop };
}

function message(id: string, value: number): NewMessage {
  return { target: { fn: FN, id }, argument: { typename: INT, hasValue: true, value: encodeInt(value) } };
}

async function stateOf(instance: Instance, id: string): Promise<{ last: number; bad: number }> {
  const values = await instance.member.backend.state.read({ fn: FN, id }, Date.now());
  return { last: decodeInt(values.get("last")?.value), bad: decodeInt(values.get("bad")?.value) };
}

async function allApplied(instance: Instance, keys: readonly string[], last: number): Promise<boolean> {
  for (const key of keys) if ((await stateOf(instance, key)).last < last) return false;
  return true;
}

async function balanced(instances: readonly Instance[]): Promise<void> {
  await until(
    "the partitions to be shared",
    async () =>
      instances.every((instance) => instance.member.ownership.owned().length === 16 / instances.length),
    POLL,
  );
}

test("two instances apply every message exactly once and in order, whichever instance accepted it", async (t) => {
  const cluster = await testCluster(t, "cluster_dispatch");
  const a = await cluster.start("a");
  const b = await cluster.start("b");
  await balanced([a, b]);
  const keys = Array.from({ length: 24 }, (_, index) => `k${index}`);
  const perKey = 12;
  // Each key's messages are sent one after another (each after the previous one's 202),
  // alternating instances; the keys go concurrently.
  await Promise.all(
    keys.map(async (key) => {
      for (let value = 1; value <= perKey; value++) {
        await (value % 2 === 0 ? a : b).dispatcher.accept(message(key, value));
      }
    }),
  );
  await until("every message to be applied", () => allApplied(a, keys, perKey), POLL);
  for (const key of keys) assert.deepEqual(await stateOf(a, key), { last: perKey, bad: 0 }, key);
  const applied = a.dispatcher.stats().applied + b.dispatcher.stats().applied;
  assert.equal(applied, keys.length * perKey, "each message applied once across the instances");
  assert.ok(
    a.dispatcher.stats().applied > 0 && b.dispatcher.stats().applied > 0,
    "both instances dispatched",
  );
});

test("a graceful leave hands the partitions over at once, and the other instance applies what was queued there", async (t) => {
  const cluster = await testCluster(t, "cluster_leave");
  const a = await cluster.start("a");
  const b = await cluster.start("b");
  await balanced([a, b]);
  // b's function hangs: its partitions' messages stay queued in the store.
  let release = () => {};
  b.invoker.gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  t.after(() => release());
  const keys = Array.from({ length: 16 }, (_, index) => `q${index}`);
  for (const key of keys) {
    await a.dispatcher.accept(message(key, 1));
    await b.dispatcher.accept(message(key, 2));
  }
  const onB = keys.filter((key) => b.member.owns({ fn: FN, id: key }));
  assert.ok(onB.length > 0, "some keys are b's");
  const left = performance.now();
  await b.stop();
  await until("a to own every partition", async () => a.member.ownership.owned().length === 16, {
    ...POLL,
    timeoutMs: 2500,
  });
  await until("b's queued messages to be applied by a", () => allApplied(a, keys, 2), {
    ...POLL,
    timeoutMs: 5000,
  });
  const tookOverMs = performance.now() - left;
  assert.ok(tookOverMs < 3000, `took over in ${Math.round(tookOverMs)} ms, under the 3 s lease`);
  for (const key of keys) assert.deepEqual(await stateOf(a, key), { last: 2, bad: 0 }, key);
});

test("an instance joining mid-load takes its share at once, and every message is still applied once and in order", async (t) => {
  const cluster = await testCluster(t, "cluster_join");
  const a = await cluster.start("a");
  const keys = Array.from({ length: 24 }, (_, index) => `j${index}`);
  const perKey = 30;
  let sent = 0;
  let b: Instance | undefined;
  const load = Promise.all(
    keys.map(async (key) => {
      for (let value = 1; value <= perKey; value++) {
        await (b && value % 2 === 0 ? b : a).dispatcher.accept(message(key, value));
        sent++;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }),
  );
  while (sent < (keys.length * perKey) / 3) await new Promise((resolve) => setTimeout(resolve, 5));
  const joined = performance.now();
  b = await cluster.start("b");
  await balanced([a, b]);
  const rebalancedMs = performance.now() - joined;
  assert.ok(rebalancedMs < 3000, `rebalanced in ${Math.round(rebalancedMs)} ms, without waiting for a lease`);
  await load;
  await until("every message to be applied", () => allApplied(a, keys, perKey), POLL);
  for (const key of keys) assert.deepEqual(await stateOf(a, key), { last: perKey, bad: 0 }, key);
  assert.equal(a.dispatcher.stats().applied + b.dispatcher.stats().applied, keys.length * perKey);
  assert.ok(b.dispatcher.stats().applied > 0, "the newcomer dispatched its share");
});
