import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { Ownership } from "../src/cluster/ownership.js";
import type { OwnershipChange, OwnershipOptions } from "../src/cluster/ownership-types.js";
import { SwitchboardError } from "../src/errors/index.js";
import { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { createTestDatabase } from "./support/postgres-database.js";

const PARTITIONS = 16;

// One cluster database per test keeps the tests independent; one pool per instance, as in
// separate processes.
async function cluster(label: string, t: TestContext) {
  const stores: PostgresStore[] = [];
  const instances: Ownership[] = [];
  const history: { instance: string; change: OwnershipChange }[] = [];
  // Registered before the database's own drop, so it runs first.
  t.after(async () => {
    for (const instance of instances) await instance.stop().catch(() => {});
    for (const store of stores) await store.close();
  });
  const database = await createTestDatabase(label, t);
  const seed = await PostgresStore.open({ url: database.url, partitions: PARTITIONS });
  await seed.close();
  return {
    url: database.url,
    history,
    async join(instanceId: string, options: Partial<OwnershipOptions> = {}): Promise<Ownership> {
      const store = await PostgresStore.open({ url: database.url, maxConnections: 3 });
      stores.push(store);
      const instance = await Ownership.start(
        {
          pool: store.pool,
          partitionCount: store.partitionCount,
          instanceId,
          manualTicks: true,
          leaseMs: 60_000,
          ...options,
        },
        (change) => history.push({ instance: instanceId, change }),
      );
      instances.push(instance);
      return instance;
    },
    store: () => stores[0] as PostgresStore,
  };
}

const partitionsOf = (instance: Ownership) => instance.owned().map((lease) => lease.partition);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

async function tickAll(...instances: Ownership[]): Promise<void> {
  for (let round = 0; round < 3; round++) for (const instance of instances) await instance.tick();
}

/** Every partition's epochs, in the order instances gained it, must strictly increase. */
function assertEpochsIncrease(history: readonly { change: OwnershipChange }[]): void {
  const last = new Map<number, number>();
  for (const { change } of history) {
    for (const lease of change.gained) {
      const previous = last.get(lease.partition) ?? 0;
      assert.ok(
        lease.epoch > previous,
        `partition ${lease.partition}: epoch ${lease.epoch} after ${previous}`,
      );
      last.set(lease.partition, lease.epoch);
    }
  }
}

test("one instance owns every partition; a second joining gets an even half, the surplus released at once", async (t) => {
  const c = await cluster("ownership_join", t);
  const a = await c.join("a");
  assert.deepEqual(partitionsOf(a), range(0, PARTITIONS));
  const b = await c.join("b");
  assert.deepEqual(partitionsOf(b), [], "nothing is free until a gives its surplus up");
  await tickAll(a, b);
  assert.deepEqual(partitionsOf(a), range(0, 8));
  assert.deepEqual(partitionsOf(b), range(8, 16));
  // Each of b's partitions changed hands three times: taken by a, released by a, taken by b.
  assert.deepEqual(
    b.owned().map((lease) => lease.epoch),
    new Array(8).fill(3),
  );
  assert.deepEqual(
    c.history.filter((entry) => entry.instance === "a").map((entry) => entry.change.reason),
    ["acquired", "rebalanced"],
  );
  assertEpochsIncrease(c.history);
});

test("three instances split 16 partitions 6/5/5, and the two left share them again when one stops", async (t) => {
  const c = await cluster("ownership_three", t);
  const a = await c.join("a");
  const b = await c.join("b");
  const d = await c.join("d");
  await tickAll(a, b, d);
  assert.deepEqual(
    [a, b, d].map((instance) => instance.owned().length),
    [6, 5, 5],
  );
  const all = [a, b, d].flatMap(partitionsOf).sort((x, y) => x - y);
  assert.deepEqual(all, range(0, PARTITIONS), "every partition has exactly one owner");

  await b.stop();
  assert.deepEqual(partitionsOf(b), []);
  await tickAll(a, d);
  assert.deepEqual(
    [a, d].map((instance) => instance.owned().length),
    [8, 8],
  );
  assert.deepEqual(
    [a, d].flatMap(partitionsOf).sort((x, y) => x - y),
    range(0, PARTITIONS),
  );
  assertEpochsIncrease(c.history);
});

test("a graceful stop hands every partition over without waiting for its lease", async (t) => {
  const c = await cluster("ownership_stop", t);
  // A one-minute lease: if taking over needed the lease to expire, this test would fail.
  const a = await c.join("a", { leaseMs: 60_000 });
  const b = await c.join("b", { leaseMs: 60_000 });
  await tickAll(a, b);
  assert.equal(b.owned().length, 8);
  await b.stop();
  assert.deepEqual(c.history.filter((entry) => entry.instance === "b").at(-1)?.change.reason, "stopped");
  await a.tick();
  assert.deepEqual(partitionsOf(a), range(0, PARTITIONS));
  await assert.rejects(
    c.store().transaction((transaction) => b.fence(transaction, 8)),
    (error: unknown) => error instanceof SwitchboardError && error.code === "SB_CLUSTER_OWNERSHIP_LOST",
    "a stopped instance cannot write",
  );
  const members = await c.store().pool.query("SELECT instance_id FROM members ORDER BY 1");
  assert.deepEqual(
    members.rows.map((row) => row.instance_id),
    ["a"],
  );
  assertEpochsIncrease(c.history);
});

test("an instance whose heartbeats stop loses its partitions after the lease, and its fenced write then fails", async (t) => {
  const c = await cluster("ownership_pause", t);
  const leaseMs = 600;
  const a = await c.join("a", { leaseMs, heartbeatMs: 100 });
  const b = await c.join("b", { leaseMs, heartbeatMs: 100 });
  await tickAll(a, b);
  const aHeld = a.owned();
  assert.deepEqual(
    aHeld.map((lease) => lease.partition),
    range(0, 8),
  );

  // a is "paused": it stops ticking. b keeps going and, once a's leases run out, takes them.
  const deadline = Date.now() + 10_000;
  while (b.owned().length < PARTITIONS && Date.now() < deadline) {
    await b.tick();
    await sleep(100);
  }
  assert.equal(b.owned().length, PARTITIONS);
  assert.deepEqual(a.owned(), aHeld, "a still believes it owns its partitions");
  for (const lease of aHeld) assert.ok((b.epochOf(lease.partition) ?? 0) > lease.epoch);

  const partition = aHeld[0]?.partition as number;
  const write = c.store().transaction(async (transaction) => {
    await transaction.query(
      "INSERT INTO state (partition, fn, id, name, value) VALUES ($1, 'f/n', 'x', 's', '\\x01')",
      [partition],
    );
    await a.fence(transaction, partition);
  });
  await assert.rejects(write, (error: unknown) => {
    assert.ok(error instanceof SwitchboardError);
    assert.equal(error.code, "SB_CLUSTER_OWNERSHIP_LOST");
    assert.match(error.message, new RegExp(`partition ${partition} \\(held epoch \\d+, now \\d+\\)`));
    return true;
  });
  const rows = await c.store().pool.query("SELECT count(*)::int AS n FROM state");
  assert.equal(rows.rows[0].n, 0, "the failed transaction wrote nothing");
  assert.equal(a.epochOf(partition), undefined, "a dropped the partition once the fence failed");
  assert.equal(c.history.filter((entry) => entry.instance === "a").at(-1)?.change.reason, "taken");

  // The new owner's fenced write goes through.
  await c.store().transaction(async (transaction) => {
    await b.fence(transaction, partition);
    await transaction.query(
      "INSERT INTO state (partition, fn, id, name, value) VALUES ($1, 'f/n', 'x', 's', '\\x01')",
      [partition],
    );
  });
  // When a ticks again it learns it lost the rest.
  await a.tick();
  assert.deepEqual(a.owned(), []);
  assertEpochsIncrease(c.history);
});

test("a partition inside an open fenced transaction is skipped by a takeover and taken once it commits", async (t) => {
  const c = await cluster("ownership_lock", t);
  const a = await c.join("a", { leaseMs: 400, heartbeatMs: 100 });
  const partition = a.owned()[0]?.partition as number;
  const epochAtStart = a.epochOf(partition);

  const store = c.store();
  const client = await store.pool.connect();
  let b: Ownership;
  try {
    await client.query("BEGIN");
    await a.fence(client, partition);
    await sleep(500);
    // a's lease has run out, but its open transaction still holds the partition row: b's
    // takeover skips it rather than bumping the epoch underneath a's writes.
    b = await c.join("b", { leaseMs: 400, heartbeatMs: 100 });
    assert.equal(b.epochOf(partition), undefined);
    assert.ok(b.owned().length > 0);
    await client.query("COMMIT");
  } finally {
    client.release();
  }
  await b.tick();
  assert.ok((b.epochOf(partition) ?? 0) > (epochAtStart ?? 0));
});

test("timings that cannot work are refused", async (t) => {
  const c = await cluster("ownership_timings", t);
  await assert.rejects(
    c.join("a", { leaseMs: 1000, heartbeatMs: 1000 }),
    /SB_CLUSTER_BAD_LEASE|shorter than the lease/,
  );
  await assert.rejects(c.join("a", { leaseMs: 0 }), (error: unknown) => {
    assert.ok(error instanceof SwitchboardError);
    assert.equal(error.code, "SB_CLUSTER_BAD_LEASE");
    return true;
  });
  const client = new pg.Client({ connectionString: c.url });
  await client.connect();
  const { rows } = await client.query("SELECT count(*)::int AS n FROM members");
  await client.end();
  assert.equal(rows[0].n, 0, "a refused instance did not register");
});
