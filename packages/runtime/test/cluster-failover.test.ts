import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { nextForeignExpiry } from "../src/cluster/lease-table.js";
import { nextRoundDelay, Ownership } from "../src/cluster/ownership.js";
import type { PartitionLease } from "../src/cluster/ownership-types.js";
import { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { ChildInstance, type ChildLine } from "./support/cluster/child-instance.js";
import { createTestDatabase } from "./support/postgres-database.js";
import { TcpProxy } from "./support/tcp-proxy.js";
import { until } from "./support/until.js";

/** How the waits in this file poll. */
const POLL = { timeoutMs: 20_000, intervalMs: 25 };

const PARTITIONS = 16;
const LEASE_MS = 1500;
const HEARTBEAT_MS = 250;

/** A cluster database, this process's own instance "local" (timer-driven), and a child instance. */
async function setUp(
  t: TestContext,
  label: string,
  timings = { leaseMs: LEASE_MS, heartbeatMs: HEARTBEAT_MS },
) {
  let local: Ownership | undefined;
  let store: PostgresStore | undefined;
  let child: ChildInstance | undefined;
  t.after(async () => {
    await child?.kill();
    await local?.stop().catch(() => {});
    await store?.close();
  });
  const database = await createTestDatabase(label, t);
  store = await PostgresStore.open({ url: database.url, partitions: PARTITIONS, maxConnections: 3 });
  child = new ChildInstance(database.url, "child", timings.leaseMs, HEARTBEAT_MS);
  const all = await child.waitFor((line) => line.type === "owned" && owned(line).length === PARTITIONS);
  assert.equal(owned(all).length, PARTITIONS);
  local = await Ownership.start({
    pool: store.pool,
    partitionCount: store.partitionCount,
    instanceId: "local",
    ...timings,
  });
  const split = await child.waitFor((line) => line.type === "owned" && owned(line).length === PARTITIONS / 2);
  await until(
    "the local instance to hold half the partitions",
    () => local?.owned().length === PARTITIONS / 2,
    POLL,
  );
  return { store, local, child, childHeld: owned(split) };
}

function owned(line: ChildLine): PartitionLease[] {
  return line.partitions as PartitionLease[];
}

test("a killed instance's partitions move to the live one after its lease, with higher epochs", async (t) => {
  const { local, child, childHeld } = await setUp(t, "failover_kill");
  assert.deepEqual(
    [...local.owned(), ...childHeld].map((lease) => lease.partition).sort((a, b) => a - b),
    Array.from({ length: PARTITIONS }, (_, i) => i),
  );
  await child.kill();
  await until("the live instance to take every partition", () => local.owned().length === PARTITIONS, POLL);
  for (const lease of childHeld) {
    assert.ok((local.epochOf(lease.partition) ?? 0) > lease.epoch, `partition ${lease.partition}`);
  }
});

test("a killed instance's partitions are taken as its leases run out, not up to a heartbeat later", async (t) => {
  // The local instance's rounds are 2.5 s apart: waiting for the next one after the child's
  // leases ran out would take up to 5.5 s from the kill.
  const timings = { leaseMs: 3000, heartbeatMs: 2500 };
  const { local, child } = await setUp(t, "failover_expiry", timings);
  const killedAt = performance.now();
  await child.kill();
  await until("the live instance to take every partition", () => local.owned().length === PARTITIONS, POLL);
  const tookMs = performance.now() - killedAt;
  assert.ok(tookMs < timings.leaseMs + 800, `taken ${Math.round(tookMs)} ms after the kill`);
});

test("the next ownership round comes just after another instance's lease runs out, at the latest a heartbeat on", () => {
  assert.equal(nextRoundDelay(1000, undefined), 1000);
  assert.equal(nextRoundDelay(1000, 5000), 1000, "a live owner's lease, renewed long before it runs out");
  assert.equal(nextRoundDelay(1000, 300), 325);
  assert.equal(nextRoundDelay(1000, 0), 25);
});

test("a round counts down to another instance's membership running out as well as its leases", async (t) => {
  const database = await createTestDatabase("failover_foreign_expiry", t);
  const store = await PostgresStore.open({ url: database.url, partitions: PARTITIONS, maxConnections: 2 });
  t.after(() => store.close());
  assert.equal(await nextForeignExpiry(store.pool, "local", 3000), undefined, "nobody else yet");
  // A member whose last heartbeat was 2.5 s ago (killed between its heartbeat and its renewal):
  // no lease of its runs, but its membership ends in about half a second.
  await store.pool.query(
    "INSERT INTO members (instance_id, host, ports, heartbeat_at) VALUES ('gone', 'h', '{}', now() - interval '2500 milliseconds')",
  );
  const untilMembershipEnds = await nextForeignExpiry(store.pool, "local", 3000);
  assert.ok(untilMembershipEnds !== undefined && untilMembershipEnds > 300 && untilMembershipEnds <= 500);
  await store.pool.query(
    "UPDATE partitions SET owner = 'gone', epoch = epoch + 1, lease_expires_at = now() + interval '200 milliseconds' WHERE partition = 3",
  );
  const untilLeaseEnds = await nextForeignExpiry(store.pool, "local", 3000);
  assert.ok(untilLeaseEnds !== undefined && untilLeaseEnds > 100 && untilLeaseEnds <= 200);
  assert.equal(await nextForeignExpiry(store.pool, "gone", 3000), undefined, "its own are not foreign");
});

test("a paused instance whose partitions were taken cannot commit with its old epoch when it resumes", async (t) => {
  const { store, local, child, childHeld } = await setUp(t, "failover_pause");
  const victim = childHeld[0] as PartitionLease;
  child.signal("SIGSTOP");
  await until("the live instance to take every partition", () => local.owned().length === PARTITIONS, POLL);
  assert.ok((local.epochOf(victim.partition) ?? 0) > victim.epoch);

  const from = child.lines.length;
  // Queued before the child runs again, so the write usually runs before the child's next
  // tick tells it what happened; either way the database refuses the old epoch.
  child.send(`write ${victim.partition} ${victim.epoch}`);
  child.signal("SIGCONT");
  const write = await child.waitFor((line) => line.type === "write", 20_000, from);
  assert.equal(write.ok, false);
  assert.equal(write.code, "SB_CLUSTER_OWNERSHIP_LOST");
  // The child also stops serving its old partitions: by its own clock (its lease ran out while
  // it was stopped) or when its next renewal comes back without them.
  const dropped = await child.waitFor(
    (line) => line.type === "owned" && (line.reason === "expired" || line.reason === "taken"),
    20_000,
    from,
  );
  assert.ok(
    !owned(dropped).some((lease) => lease.partition === victim.partition && lease.epoch === victim.epoch),
  );

  const { rows } = await store.pool.query("SELECT count(*)::int AS n FROM state WHERE fn = 'child/f'");
  assert.equal(rows[0].n, 0, "the late write left nothing behind");
});

test("an instance cut off from the database stops serving by its own clock, and shares again once the network heals", async (t) => {
  let proxy: TcpProxy | undefined;
  const stores: PostgresStore[] = [];
  const instances: Ownership[] = [];
  t.after(async () => {
    proxy?.thaw();
    for (const instance of instances) await instance.stop().catch(() => {});
    for (const store of stores) await store.close();
    await proxy?.close();
  });
  const database = await createTestDatabase("failover_cut", t);
  const direct = new URL(database.url);
  proxy = await TcpProxy.start(direct.hostname, Number(direct.port || 5432));
  const viaProxy = new URL(database.url);
  viaProxy.port = String(proxy.port);

  const reasons: string[] = [];
  const start = async (url: string, instanceId: string) => {
    const store = await PostgresStore.open({
      url,
      partitions: PARTITIONS,
      maxConnections: 3,
      connectTimeoutMs: 1000,
    });
    stores.push(store);
    const instance = await Ownership.start(
      {
        pool: store.pool,
        partitionCount: store.partitionCount,
        instanceId,
        leaseMs: LEASE_MS,
        heartbeatMs: HEARTBEAT_MS,
      },
      (change) => {
        if (instanceId === "cut" && change.lost.length > 0) reasons.push(change.reason);
      },
    );
    instances.push(instance);
    return instance;
  };
  const cut = await start(viaProxy.toString(), "cut");
  const steady = await start(database.url, "steady");
  await until(
    "the partitions to be shared",
    () => cut.owned().length === PARTITIONS / 2 && steady.owned().length === PARTITIONS / 2,
    POLL,
  );

  proxy.freeze();
  await until("the cut-off instance to drop its leases", () => cut.owned().length === 0, POLL);
  assert.deepEqual(reasons.slice(-1), ["expired"], "dropped by its own clock, not told by the database");
  await until(
    "the steady instance to take every partition",
    () => steady.owned().length === PARTITIONS,
    POLL,
  );

  proxy.thaw();
  await until(
    "the partitions to be shared again",
    () => cut.owned().length === PARTITIONS / 2 && steady.owned().length === PARTITIONS / 2,
    { ...POLL, timeoutMs: 30_000 },
  );

  // Cut off again, a graceful stop cannot hand over, but it must not hang either: every
  // ownership statement gives up after one lease.
  proxy.freeze();
  const stopping = cut.stop().then(
    () => "stopped",
    () => "failed",
  );
  assert.notEqual(await Promise.race([stopping, sleep(15_000, "hung", { ref: false })]), "hung");
});

test("a lone instance cut off for longer than its lease serves its partitions again, under new epochs, once the database answers", async (t) => {
  let proxy: TcpProxy | undefined;
  let store: PostgresStore | undefined;
  let alone: Ownership | undefined;
  t.after(async () => {
    proxy?.thaw();
    await alone?.stop().catch(() => {});
    await store?.close();
    await proxy?.close();
  });
  const database = await createTestDatabase("failover_alone", t);
  const direct = new URL(database.url);
  proxy = await TcpProxy.start(direct.hostname, Number(direct.port || 5432));
  const viaProxy = new URL(database.url);
  viaProxy.port = String(proxy.port);
  store = await PostgresStore.open({
    url: viaProxy.toString(),
    partitions: PARTITIONS,
    maxConnections: 3,
    connectTimeoutMs: 1000,
  });
  const reasons: string[] = [];
  alone = await Ownership.start(
    {
      pool: store.pool,
      partitionCount: PARTITIONS,
      instanceId: "alone",
      leaseMs: LEASE_MS,
      heartbeatMs: HEARTBEAT_MS,
    },
    (change) => reasons.push(change.reason),
  );
  const before = alone.owned();
  assert.equal(before.length, PARTITIONS);

  proxy.freeze();
  await until("the cut-off instance to drop its leases", () => alone?.owned().length === 0, POLL);
  assert.equal(reasons.at(-1), "expired");
  // Nobody took the partitions meanwhile: the database still has them leased to this instance.
  proxy.thaw();
  await until("the instance to take its partitions back", () => alone?.owned().length === PARTITIONS, {
    ...POLL,
    timeoutMs: 30_000,
  });
  for (const lease of before)
    assert.ok((alone.epochOf(lease.partition) ?? 0) > lease.epoch, `partition ${lease.partition}`);
});
