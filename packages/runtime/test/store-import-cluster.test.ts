/**
 * Moving in, end to end: a single node applies part of its traffic and stops with messages
 * queued and a delayed message pending; its store is imported; two cluster instances then
 * carry on from exactly where the node stopped.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import type { FromFunction, ToFunction } from "@switchboard/sdk/protocol";
import { ClusterMember } from "../src/cluster/cluster-member.js";
import { Dispatcher, type DispatcherOptions } from "../src/dispatch/dispatcher.js";
import { silentLogger } from "../src/dispatch/logger.js";
import type { FunctionInvoker } from "../src/invoke/function-invoker.js";
import { importSqliteStore } from "../src/store/import/import-sqlite-store.js";
import type { NewMessage } from "../src/store/records.js";
import { SqliteBackend } from "../src/store/sqlite-backend.js";
import { Store } from "../src/store/store.js";
import { createTestDatabase } from "./support/postgres-database.js";
import { type Behaviour, decodeInt, encodeInt, INT, ProtocolFunction } from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";
import { namespaceRouter } from "./support/test-router.js";
import { until } from "./support/until.js";

const FN = "test/ordered";
const KEYS = Array.from({ length: 12 }, (_, index) => `k${index}`);
const ON_THE_NODE = 5;
const QUEUED = 5;
/** The last value: what the node applied, then the queued messages, then one delayed message. */
const LAST = ON_THE_NODE + QUEUED + 1;

/** Keeps the last value applied; counts every value that does not follow the last by one. */
const ordered: Behaviour = (state, invocation) => {
  const value = decodeInt(invocation.argument?.value);
  if (value !== decodeInt(state.get("last")) + 1) {
    state.set("bad", encodeInt(decodeInt(state.get("bad")) + 1));
  }
  state.set("last", encodeInt(value));
};

class Invoker implements FunctionInvoker {
  private readonly fn = new ProtocolFunction(
    [
      { name: "last", typename: INT },
      { name: "bad", typename: INT },
    ],
    ordered,
  );
  async invoke(_fn: string, request: ToFunction): Promise<FromFunction> {
    return this.fn.handle(request);
  }
}

const dispatcherOptions = (store: DispatcherOptions["store"]): DispatcherOptions => ({
  store,
  router: namespaceRouter(["test"]),
  invoker: new Invoker(),
  egress: { get: () => undefined },
  suspendBackoff: { initialMs: 20, maxMs: 100 },
});

function message(id: string, value: number): NewMessage {
  return { target: { fn: FN, id }, argument: { typename: INT, hasValue: true, value: encodeInt(value) } };
}

/** The node: applies the first values, then stops; the rest is queued and one value is delayed. */
async function runNode(dataDir: string): Promise<void> {
  const backend = new SqliteBackend(Store.open(dataDir, "normal"));
  try {
    const dispatcher = new Dispatcher(dispatcherOptions(backend));
    await dispatcher.start();
    for (let value = 1; value <= ON_THE_NODE; value++) {
      for (const key of KEYS) await dispatcher.accept(message(key, value));
    }
    await dispatcher.settled();
    await dispatcher.stop(1000);
    // Accepted but not applied before the node stopped.
    for (let value = ON_THE_NODE + 1; value <= ON_THE_NODE + QUEUED; value++) {
      for (const key of KEYS) await backend.messages.accept(message(key, value), Date.now());
    }
    // A delayed message each address sent itself, due shortly after the move.
    for (const key of KEYS) {
      const self = { fn: FN, id: key };
      await backend.applyResult({
        address: self,
        plan: {
          outgoing: [],
          delayed: [
            {
              kind: "schedule",
              timer: { sender: self, token: "last", dueAt: Date.now() + 500, message: message(key, LAST) },
            },
          ],
          egress: [],
          mutations: [],
        },
        consumed: [],
        specs: [],
        clearSuspension: false,
        now: Date.now(),
      });
    }
  } finally {
    await backend.close();
  }
}

interface Instance {
  readonly member: ClusterMember;
  readonly dispatcher: Dispatcher;
  stop(): Promise<void>;
}

async function startInstance(url: string, name: string): Promise<Instance> {
  const member = await ClusterMember.join({ url, instanceId: name, leaseMs: 3000, logger: silentLogger });
  const dispatcher = new Dispatcher({ ...dispatcherOptions(member.backend), claim: member.claim });
  await dispatcher.start();
  await member.attach({
    gained: () => void dispatcher.ownershipGained(),
    lost: () => dispatcher.ownershipLost(),
    storedElsewhere: (fromSeq) => dispatcher.messagesStoredElsewhere(fromSeq),
  });
  let stopped = false;
  return {
    member,
    dispatcher,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await dispatcher.stop(100);
      await member.leave();
    },
  };
}

async function stateOf(instance: Instance, id: string): Promise<{ last: number; bad: number }> {
  const values = await instance.member.backend.state.read({ fn: FN, id }, Date.now());
  return { last: decodeInt(values.get("last")?.value), bad: decodeInt(values.get("bad")?.value) };
}

function stopAllFirst(t: TestContext, instances: Instance[]): void {
  // Registered before the database's drop, so it runs first.
  t.after(async () => {
    for (const instance of instances) await instance.stop();
  });
}

test("a cluster started on an imported store carries on where the node stopped: state, queue and timers", async (t) => {
  const dataDir = join(tempDir(t), "data");
  await runNode(dataDir);
  const instances: Instance[] = [];
  stopAllFirst(t, instances);
  const { url } = await createTestDatabase("import_cluster", t);
  await importSqliteStore({ dataDir, url, partitions: 8 });

  instances.push(await startInstance(url, "a"), await startInstance(url, "b"));
  const [a, b] = instances as [Instance, Instance];
  await until(
    "every queued and delayed message to be applied",
    async () => {
      for (const key of KEYS) if ((await stateOf(a, key)).last < LAST) return false;
      return true;
    },
    { timeoutMs: 20_000, intervalMs: 50 },
  );
  // The node's state carried over (no value was out of order, none was applied again).
  for (const key of KEYS) assert.deepEqual(await stateOf(a, key), { last: LAST, bad: 0 }, key);
  const applied = a.dispatcher.stats().applied + b.dispatcher.stats().applied;
  assert.equal(applied, KEYS.length * (QUEUED + 1), "each moved message applied once, across the instances");
  assert.equal(await a.member.backend.timers.count(), 0);
});
