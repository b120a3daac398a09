import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { partitionOf } from "../src/cluster/partition-hash.js";
import type { ResultWrite } from "../src/store/contract.js";
import { appendMessages, appendMessagesSql } from "../src/store/postgres/ingress-messages.js";
import { MESSAGE_PARTITION_LOCK } from "../src/store/postgres/message-partition-locks.js";
import { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { SqlParams } from "../src/store/postgres/sql-params.js";
import type { AddressRef, NewMessage, ResultPlan } from "../src/store/records.js";
import { testPostgresBackend } from "./support/postgres-backend.js";
import { createTestDatabase } from "./support/postgres-database.js";

const PARTITIONS = 8;
const NOW = 1_700_000_000_000;

/** An address of partition `partition`; `n` picks among several. */
function addressIn(partition: number, n = 0): AddressRef {
  let found = 0;
  for (let i = 0; i < 100_000; i++) {
    const address = { fn: "seq/f", id: `k${i}` };
    if (partitionOf(address.fn, address.id, PARTITIONS) === partition && found++ === n) return address;
  }
  throw new Error(`no address found for partition ${partition}`);
}

function message(target: AddressRef): NewMessage {
  return { target, argument: { typename: "t/x", hasValue: false, value: new Uint8Array(0) } };
}

async function openStore(t: TestContext, label: string, maxConnections: number): Promise<PostgresStore> {
  let store: PostgresStore | undefined;
  t.after(() => store?.close());
  const database = await createTestDatabase(label, t);
  store = await PostgresStore.open({ url: database.url, partitions: PARTITIONS, maxConnections });
  return store;
}

interface PlanNode {
  readonly "Node Type": string;
  readonly Output?: readonly string[];
  readonly "One-Time Filter"?: string;
  readonly Plans?: readonly PlanNode[];
}

function nodesOf(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodesOf)];
}

test("the message insert takes its partitions' locks before it draws a seq: the rows come through a gate on them", async (t) => {
  const store = await openStore(t, "seq_plan", 2);
  const statement = new SqlParams();
  const { ctes, seqs } = appendMessagesSql(
    statement,
    [message(addressIn(3)), message(addressIn(1))],
    PARTITIONS,
    NOW,
  );
  const { rows } = await store.pool.query(
    `EXPLAIN (VERBOSE, COSTS OFF, FORMAT JSON) WITH ${ctes.join(",\n")}\n${seqs}`,
    statement.values,
  );
  const nodes = nodesOf((rows[0]["QUERY PLAN"] as [{ Plan: PlanNode }])[0].Plan);
  const drawing = nodes.filter((node) => node.Output?.some((column) => column.includes("nextval(")));
  assert.equal(drawing.length, 1, "one node draws the seqs");
  // A Result node checks its One-Time Filter (here the InitPlan reading `locked`) before it
  // asks its input for the first row, so no seq is drawn before the locks are held.
  assert.equal(drawing[0]?.["Node Type"], "Result");
  assert.match(drawing[0]?.["One-Time Filter"] ?? "", /IS NOT NULL/);
});

test("concurrent inserts into a partition become visible in seq order: an observer never sees a seq below one it saw", async (t) => {
  const WORKERS = 8;
  const ROUNDS = 20;
  const store = await openStore(t, "seq_order", WORKERS + 2);
  const [p, q] = [2, 5];
  const inP = [addressIn(p, 0), addressIn(p, 1)];
  const inQ = addressIn(q);
  // Every other worker holds its transaction open for a while after inserting (forcing
  // overlaps); half the groups span both partitions, listed in opposite orders.
  const groupOf = (worker: number): NewMessage[] => {
    const [a, b] = inP.map(message) as [NewMessage, NewMessage];
    if (worker % 4 === 0) return [a, message(inQ), b];
    if (worker % 4 === 2) return [message(inQ), b, a];
    return [a, b];
  };
  let running = WORKERS;
  const worker = async (index: number) => {
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const group = groupOf(index);
        if (index % 2 === 1) {
          // One self-committing statement, as an ingress group is written.
          await appendMessages(store.pool, group, PARTITIONS, NOW);
        } else {
          await store.transaction(async (transaction) => {
            await appendMessages(transaction, group, PARTITIONS, NOW);
            await transaction.query("SELECT pg_sleep($1)", [((index + round) % 5) * 0.002]);
          });
        }
      }
    } finally {
      running--;
    }
  };

  const seen = new Map<number, Set<number>>([
    [p, new Set()],
    [q, new Set()],
  ]);
  const highest = new Map<number, number>([
    [p, 0],
    [q, 0],
  ]);
  const late: string[] = [];
  let polls = 0;
  const observe = async () => {
    const { rows } = await store.pool.query<{ partition: number; seq: string }>(
      "SELECT partition, seq FROM messages WHERE partition = ANY($1::integer[])",
      [[p, q]],
    );
    polls++;
    const before = new Map(highest);
    for (const row of rows) {
      const seq = Number(row.seq);
      const known = seen.get(row.partition) as Set<number>;
      if (known.has(seq)) continue;
      known.add(seq);
      const previous = before.get(row.partition) as number;
      if (seq < previous) late.push(`partition ${row.partition}: seq ${seq} appeared after ${previous}`);
      highest.set(row.partition, Math.max(highest.get(row.partition) as number, seq));
    }
  };
  const observer = (async () => {
    while (running > 0) await observe();
    await observe();
  })();
  await Promise.all(Array.from({ length: WORKERS }, (_, index) => worker(index)));
  await observer;

  assert.ok(polls > 10, `the observer polled while the workers ran (${polls} polls)`);
  assert.deepEqual(late, [], "no seq became visible below one already seen in its partition");
  const spanning = Array.from({ length: WORKERS }, (_, index) => index).filter(
    (index) => index % 2 === 0,
  ).length;
  assert.equal(seen.get(p)?.size, WORKERS * ROUNDS * 2);
  assert.equal(seen.get(q)?.size, spanning * ROUNDS);
});

test("results written one by one in a group take all their partition locks at once, lowest first", async (t) => {
  const { backend } = await testPostgresBackend("seq_lock_ahead", t, { partitions: PARTITIONS });
  const { store } = backend;
  const [low, high] = [2, 5];
  const self = addressIn(0);
  const plan = (target: AddressRef): ResultPlan => ({
    outgoing: [message(target)],
    delayed: [],
    egress: [],
    mutations: [],
  });
  const write = (target: AddressRef): ResultWrite => ({
    address: self,
    plan: plan(target),
    consumed: [],
    specs: [],
    clearSuspension: false,
    now: NOW,
  });
  const lockedBy = (partition: number, granted: boolean) =>
    store.pool
      .query<{ n: number }>(
        `SELECT count(*)::integer AS n FROM pg_locks WHERE locktype = 'advisory' AND granted = $1
         AND classid::bigint = $2 AND objid::bigint = $3 AND objsubid = 2`,
        [granted, MESSAGE_PARTITION_LOCK, partition],
      )
      .then(({ rows }) => rows[0]?.n ?? 0);

  // Another transaction holds the lower partition's lock. (Released before the test ends:
  // the backend's pool closes only once every connection is back.)
  const holder = await store.pool.connect();
  try {
    await holder.query("BEGIN");
    await holder.query("SELECT pg_advisory_xact_lock($1, $2)", [MESSAGE_PARTITION_LOCK, low]);

    // Two results for one address: one group, written result by result (in savepoints), the
    // first sending to the higher partition, the second to the lower.
    const applied = Promise.all([
      backend.applyResult(write(addressIn(high))),
      backend.applyResult(write(addressIn(low))),
    ]);
    for (let i = 0; (await lockedBy(low, false)) === 0; i++) {
      assert.ok(i < 500, "the group came to wait for the lower partition's lock");
      await sleep(10);
    }
    assert.equal(await lockedBy(high, true), 0, "waiting for the lower partition, it holds no higher one");
    // So an accept into the higher partition is not held up behind it.
    const accepting = await store.pool.connect();
    try {
      await accepting.query("SET lock_timeout = '5s'");
      await appendMessages(accepting, [message(addressIn(high, 1))], PARTITIONS, NOW);
    } finally {
      await accepting.query("RESET lock_timeout");
      accepting.release();
    }

    await holder.query("COMMIT");
    const [first, second] = await applied;
    assert.equal(first?.outgoing.length, 1);
    assert.equal(second?.outgoing.length, 1);
    assert.ok((first?.outgoing[0]?.seq ?? 0) < (second?.outgoing[0]?.seq ?? 0), "seqs in submission order");
  } finally {
    await holder.query("ROLLBACK").catch(() => {});
    holder.release();
  }
});
