/**
 * What the fencing check costs the cluster store's result-apply transaction. Baseline: the
 * apply alone (delete the consumed message, insert two outgoing messages with their partition
 * notifications, upsert one state value), on the real schema and code. Measured: the same with
 * `assertEpochs` (a `SELECT ... FOR SHARE` of the partition row) first. Two spreads: callers
 * on all 128 partitions, and every caller on one hot partition, where concurrent share locks
 * on one row are the worst case. Closed loop, c callers, min(c, 16) pooled connections, both
 * variants in every round in alternating order. The benchmark creates its own database and
 * drops it.
 *
 *   npm run bench -- postgres-fencing [durationMs=3000] [rounds=2] [concurrencies=1,8,32]
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { assertEpochs } from "../packages/runtime/src/cluster/fencing.js";
import type { PartitionLease } from "../packages/runtime/src/cluster/lease-table.js";
import { appendMessages } from "../packages/runtime/src/store/postgres/ingress-messages.js";
import { PostgresStore } from "../packages/runtime/src/store/postgres/postgres-store.js";
import type { NewMessage } from "../packages/runtime/src/store/records.js";

const durationMs = Number(process.argv[2] ?? 3000);
const rounds = Number(process.argv[3] ?? 2);
const concurrencies = (process.argv[4] ?? "1,8,32").split(",").map(Number);
const serverUrl = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const database = `switchboard_bench_fencing_${process.pid}_${randomBytes(3).toString("hex")}`;
const databaseUrl = serverUrl.replace(/\/[^/]*$/, `/${database}`);
const PARTITIONS = 128;
const payload = randomBytes(100);

interface Result {
  readonly txPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function outgoing(worker: number, i: number): NewMessage[] {
  return [0, 1].map((k) => ({
    target: { fn: "bench/f", id: `k${(worker * 7919 + i * 2 + k) % 1000}` },
    caller: { fn: "bench/f", id: `w${worker}` },
    argument: { typename: "bench/t", hasValue: true, value: payload },
  }));
}

async function apply(
  store: PostgresStore,
  fenced: boolean,
  lease: PartitionLease,
  worker: number,
  i: number,
) {
  await store.transaction(async (transaction) => {
    if (fenced) await assertEpochs(transaction, [lease]);
    await transaction.query({
      name: "consume",
      text: "DELETE FROM messages WHERE partition = $1 AND seq = ANY($2::bigint[])",
      values: [lease.partition, [i + 1]],
    });
    await appendMessages(transaction, outgoing(worker, i), PARTITIONS);
    await transaction.query({
      name: "state",
      text: `INSERT INTO state (partition, fn, id, name, value) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (partition, fn, id, name) DO UPDATE SET value = excluded.value`,
      values: [lease.partition, "bench/f", `w${worker}`, "n", payload],
    });
  });
}

async function measure(
  concurrency: number,
  run: (worker: number, i: number) => Promise<void>,
): Promise<Result> {
  const latencies: number[] = [];
  const deadline = performance.now() + durationMs;
  let count = 0;
  const loop = async (worker: number) => {
    for (let i = 0; performance.now() < deadline; i++) {
      const started = performance.now();
      await run(worker, i);
      latencies.push(performance.now() - started);
      count++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, worker) => loop(worker)));
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0;
  return { txPerSecond: (count / elapsed) * 1000, p50Ms: at(0.5), p99Ms: at(0.99) };
}

const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
try {
  const setup = await PostgresStore.open({ url: databaseUrl, partitions: PARTITIONS, maxConnections: 1 });
  await setup.pool.query(
    "UPDATE partitions SET owner = 'bench', epoch = 1, lease_expires_at = now() + interval '1 hour'",
  );
  await setup.close();
  console.log(
    `postgres-fencing: ${durationMs} ms per cell, ${rounds} rounds, node ${process.version}, ${database}`,
  );
  console.log(
    "| partitions | c | round | unfenced tx/s | fenced tx/s | fenced / unfenced | unfenced p50 / p99 ms | fenced p50 / p99 ms |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const spread of ["all 128", "one hot"] as const) {
    for (const concurrency of concurrencies) {
      const store = await PostgresStore.open({ url: databaseUrl, maxConnections: Math.min(concurrency, 16) });
      store.pool.on("error", () => {});
      const leaseOf = (worker: number, i: number): PartitionLease => ({
        partition: spread === "one hot" ? 0 : (worker * 31 + i) % PARTITIONS,
        epoch: 1,
      });
      try {
        for (let round = 1; round <= rounds; round++) {
          const results = new Map<boolean, Result>();
          for (const fenced of round % 2 === 1 ? [false, true] : [true, false]) {
            results.set(
              fenced,
              await measure(concurrency, (worker, i) => apply(store, fenced, leaseOf(worker, i), worker, i)),
            );
          }
          const base = results.get(false) as Result;
          const fenced = results.get(true) as Result;
          const f = (n: number) => n.toFixed(1);
          console.log(
            `| ${spread} | ${concurrency} | ${round} | ${base.txPerSecond.toFixed(0)} | ${fenced.txPerSecond.toFixed(0)} | ${(fenced.txPerSecond / base.txPerSecond).toFixed(2)} | ${f(base.p50Ms)} / ${f(base.p99Ms)} | ${f(fenced.p50Ms)} / ${f(fenced.p99Ms)} |`,
          );
        }
      } finally {
        await store.close();
      }
    }
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}
