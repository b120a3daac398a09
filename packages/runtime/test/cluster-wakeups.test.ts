import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Ownership } from "../src/cluster/ownership.js";
import { partitionOf } from "../src/cluster/partition-hash.js";
import { PartitionWakeups, type WakeupReason } from "../src/cluster/partition-wakeups.js";
import { appendMessages } from "../src/store/postgres/ingress-messages.js";
import { PostgresStore } from "../src/store/postgres/postgres-store.js";
import type { NewMessage } from "../src/store/records.js";
import { createTestDatabase } from "./support/postgres-database.js";
import { until } from "./support/until.js";

/** How the waits in this file poll. */
const POLL = { intervalMs: 20 };

const PARTITIONS = 8;

interface Wakeup {
  readonly partitions: readonly number[];
  readonly reason: WakeupReason;
  readonly minSeq?: number;
}

/** An address whose partition is `partition`. */
function messageFor(partition: number): NewMessage {
  for (let i = 0; i < 10_000; i++) {
    if (partitionOf("w/f", `k${i}`, PARTITIONS) === partition) {
      return {
        target: { fn: "w/f", id: `k${i}` },
        argument: { typename: "t", hasValue: false, value: new Uint8Array(0) },
      };
    }
  }
  throw new Error(`no address found for partition ${partition}`);
}

async function setUp(t: TestContext) {
  const stores: PostgresStore[] = [];
  const closers: (() => Promise<void>)[] = [];
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    for (const store of stores) await store.close();
  });
  const database = await createTestDatabase("wakeups", t);
  return {
    async member(instanceId: string) {
      const store = await PostgresStore.open({
        url: database.url,
        partitions: PARTITIONS,
        maxConnections: 3,
      });
      stores.push(store);
      const ownership = await Ownership.start({
        pool: store.pool,
        partitionCount: PARTITIONS,
        instanceId,
        manualTicks: true,
        leaseMs: 60_000,
      });
      closers.push(() => ownership.stop());
      const wakeups: Wakeup[] = [];
      const listening = await PartitionWakeups.start({
        url: store.url,
        ownership,
        onWork: (partitions, reason, minSeq) =>
          wakeups.push({ partitions: [...partitions], reason, ...(minSeq === undefined ? {} : { minSeq }) }),
      });
      closers.push(() => listening.close());
      return { store, ownership, wakeups };
    },
  };
}

test("the owner of a partition is woken by its messages, and a partition handed over wakes its new owner", async (t) => {
  const cluster = await setUp(t);
  const a = await cluster.member("a");
  assert.deepEqual(a.wakeups, [{ partitions: [0, 1, 2, 3, 4, 5, 6, 7], reason: "gained" }]);
  const b = await cluster.member("b");
  await a.ownership.tick();
  await b.ownership.tick();
  await until("b's wakeup for the partitions it gained", () => b.wakeups.length > 0, POLL);
  assert.deepEqual(b.wakeups, [{ partitions: [4, 5, 6, 7], reason: "gained" }]);

  a.wakeups.length = 0;
  b.wakeups.length = 0;
  const [in1, in6] = await a.store.transaction((transaction) =>
    appendMessages(transaction, [messageFor(1), messageFor(6)], PARTITIONS),
  );
  await until("a wakeup on each instance", () => a.wakeups.length > 0 && b.wakeups.length > 0, POLL);
  await sleep(100);
  assert.deepEqual(a.wakeups, [{ partitions: [1], reason: "notified", minSeq: in1 }]);
  assert.deepEqual(b.wakeups, [{ partitions: [6], reason: "notified", minSeq: in6 }]);

  await b.ownership.stop();
  await a.ownership.tick();
  await until(
    "a's wakeup for the partitions it gained",
    () => a.wakeups.some((wakeup) => wakeup.reason === "gained"),
    POLL,
  );
  assert.deepEqual(a.wakeups.at(-1), { partitions: [4, 5, 6, 7], reason: "gained" });
  b.wakeups.length = 0;
  const [again6] = await b.store.transaction((transaction) =>
    appendMessages(transaction, [messageFor(6)], PARTITIONS),
  );
  await until("a's wakeup for the notification", () => a.wakeups.at(-1)?.reason === "notified", POLL);
  assert.deepEqual(a.wakeups.at(-1), { partitions: [6], reason: "notified", minSeq: again6 });
  await sleep(100);
  assert.deepEqual(b.wakeups, [], "the former owner hears nothing");

  // A notification without a seq wakes the owner all the same, with no minSeq: look from the start.
  a.wakeups.length = 0;
  await a.store.pool.query("SELECT pg_notify('sb_partition_3', '')");
  await until("a's wakeup", () => a.wakeups.length > 0, POLL);
  assert.deepEqual(a.wakeups, [{ partitions: [3], reason: "notified" }]);
});

test("instances that listen rebalance as soon as another joins or stops, not at their next heartbeat", async (t) => {
  const stores: PostgresStore[] = [];
  const closers: (() => Promise<void>)[] = [];
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    for (const store of stores) await store.close();
  });
  const database = await createTestDatabase("wakeups_announce", t);
  // A heartbeat of 20 s: anything that happens within the few seconds below is the announcement's doing.
  const member = async (instanceId: string) => {
    const store = await PostgresStore.open({ url: database.url, partitions: PARTITIONS, maxConnections: 3 });
    stores.push(store);
    const ownership = await Ownership.start({
      pool: store.pool,
      partitionCount: PARTITIONS,
      instanceId,
      leaseMs: 60_000,
      heartbeatMs: 20_000,
    });
    closers.push(() => ownership.stop());
    const wakeups = await PartitionWakeups.start({ url: store.url, ownership, onWork: () => {} });
    closers.push(() => wakeups.close());
    return ownership;
  };
  const a = await member("a");
  assert.equal(a.owned().length, PARTITIONS);
  const b = await member("b");
  // b's join made a release its surplus, and a's release made b take it.
  await until(
    "the partitions to be shared",
    () => a.owned().length === PARTITIONS / 2 && b.owned().length === PARTITIONS / 2,
    {
      timeoutMs: 5000,
      intervalMs: 20,
    },
  );
  await b.stop();
  await until("a to take every partition", () => a.owned().length === PARTITIONS, {
    ...POLL,
    timeoutMs: 5000,
  });
});
