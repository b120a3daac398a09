/**
 * How long a cluster's partitions go without an owner when an instance leaves, measured
 * against the lease it runs with (the baseline: a crashed owner's partitions can only move once
 * its leases expire). Two instances share 128 partitions; then the victim either stops
 * gracefully (releases everything at once) or crashes (its connections are cut with no
 * release, as a kill -9 would). The figure is the time from that moment until the survivor owns
 * every partition. Both instances listen for each other's announcements (PartitionWakeups), as
 * the runtime will. Expected: a crash costs between the lease minus one heartbeat and the lease
 * plus one heartbeat; a graceful stop a few round trips (the survivor hears the stop announced).
 *
 *   npm run bench -- cluster-failover [leaseMs=2000] [rounds=3]
 */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { Ownership } from "../packages/runtime/src/cluster/ownership.js";
import { PartitionWakeups } from "../packages/runtime/src/cluster/partition-wakeups.js";
import { PostgresStore } from "../packages/runtime/src/store/postgres/postgres-store.js";

const leaseMs = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 3);
const heartbeatMs = Math.floor(leaseMs / 3);
const serverUrl = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const database = `switchboard_bench_failover_${process.pid}_${randomBytes(3).toString("hex")}`;
const databaseUrl = serverUrl.replace(/\/[^/]*$/, `/${database}`);
const PARTITIONS = 128;

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("the survivor never took every partition");
    await sleep(5);
  }
}

async function member(instanceId: string) {
  const store = await PostgresStore.open({ url: databaseUrl, partitions: PARTITIONS, maxConnections: 2 });
  store.pool.on("error", () => {});
  const ownership = await Ownership.start({
    pool: store.pool,
    partitionCount: PARTITIONS,
    instanceId,
    leaseMs,
    heartbeatMs,
    onError: () => {},
  });
  // As the runtime will run it: listening for other instances' announcements.
  const wakeups = await PartitionWakeups.start({ url: store.url, ownership, onWork: () => {} });
  return { store, ownership, wakeups };
}

/** Milliseconds from the victim's exit until the survivor holds all partitions. */
async function measure(exit: "graceful" | "crash", round: number): Promise<number> {
  const survivor = await member(`survivor-${exit}-${round}`);
  const victim = await member(`victim-${exit}-${round}`);
  try {
    await until(() => survivor.ownership.owned().length === PARTITIONS / 2, 10 * leaseMs);
    await until(() => victim.ownership.owned().length === PARTITIONS / 2, 10 * leaseMs);
    // Start at a random point of the heartbeat cycle, as a real exit would.
    await sleep(Math.random() * heartbeatMs);
    const started = performance.now();
    if (exit === "graceful") {
      await victim.ownership.stop();
    } else {
      // Its connections close with no release, and its later rounds fail for want of a pool:
      // the database sees what a kill -9 leaves, partitions held under unexpired leases.
      await victim.wakeups.close();
      await victim.store.close();
    }
    await until(() => survivor.ownership.owned().length === PARTITIONS, 10 * leaseMs);
    return performance.now() - started;
  } finally {
    await victim.wakeups.close();
    await victim.ownership.stop().catch(() => {});
    await victim.store.close().catch(() => {});
    await survivor.wakeups.close();
    await survivor.ownership.stop();
    await survivor.store.close();
  }
}

const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
try {
  console.log(
    `cluster-failover: lease ${leaseMs} ms, heartbeat ${heartbeatMs} ms, ${PARTITIONS} partitions, ${rounds} rounds, node ${process.version}`,
  );
  console.log("| exit | round | partitions unowned for ms | / lease |");
  console.log("| --- | --- | --- | --- |");
  for (const exit of ["graceful", "crash"] as const) {
    for (let round = 1; round <= rounds; round++) {
      const ms = await measure(exit, round);
      console.log(`| ${exit} | ${round} | ${ms.toFixed(0)} | ${(ms / leaseMs).toFixed(2)} |`);
    }
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}
