import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import { partitionOf } from "../src/cluster/partition-hash.js";
import { SwitchboardError } from "../src/errors/index.js";
import type { ResultWrite } from "../src/store/contract.js";
import { PostgresStore } from "../src/store/postgres/postgres-store.js";
import {
  type AddressRef,
  ExpireMode,
  type NewMessage,
  type ResultPlan,
  type StateSpec,
} from "../src/store/records.js";
import {
  type TestClusterInstance,
  testPostgresBackend,
  testPostgresCluster,
} from "./support/postgres-backend.js";

const PARTITIONS = 8;
const NOW = 1_700_000_000_000;
const EMPTY_PLAN: ResultPlan = { outgoing: [], delayed: [], egress: [], mutations: [] };

const bytes = (...values: number[]) => new Uint8Array(values);
const counter = (id: string): AddressRef => ({ fn: "test/counter", id });
const message = (target: AddressRef, value = 1, caller?: AddressRef): NewMessage => ({
  target,
  ...(caller ? { caller } : {}),
  argument: { typename: "t/x", hasValue: true, value: bytes(value) },
});
const spec = (name: string, expireMode = ExpireMode.NONE, expireAfterMs = 0): StateSpec => ({
  name,
  typename: "t/int",
  expireMode,
  expireAfterMs,
});
const partitionOfAddress = (address: AddressRef) => partitionOf(address.fn, address.id, PARTITIONS);

/** The way a single instance runs: alone in its cluster, owning every partition. */
async function soleInstance(label: string, t: TestContext) {
  const { backend, ownership, url } = await testPostgresBackend(label, t, { partitions: PARTITIONS });
  assert.equal(ownership.owned().length, PARTITIONS, "alone in the cluster, it owns every partition");
  return { backend, owner: ownership, url, store: backend.store };
}

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof SwitchboardError, `expected a SwitchboardError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

function resultWrite(
  address: AddressRef,
  plan: Partial<ResultPlan>,
  extra: Partial<ResultWrite> = {},
): ResultWrite {
  return {
    address,
    plan: { ...EMPTY_PLAN, ...plan },
    consumed: [],
    specs: [],
    clearSuspension: false,
    now: NOW,
    ...extra,
  };
}

/** Addresses `test/counter/<n>`, one per partition, so a test can pick an address by partition. */
function addressInPartition(partition: number): AddressRef {
  for (let n = 0; n < 10_000; n++) {
    const address = counter(`k${n}`);
    if (partitionOfAddress(address) === partition) return address;
  }
  throw new Error(`no address found for partition ${partition}`);
}

test("accepted messages come back per address oldest first, with their seqs, callers, bytes and times", async (t) => {
  const { backend } = await soleInstance("pgb_messages", t);
  const a = counter("a");
  const b = counter("b");
  const first = await backend.messages.accept(message(a, 1), NOW);
  const second = await backend.messages.accept(message(b, 2, a), NOW + 1);
  const third = await backend.messages.accept(message(a, 3), NOW + 2);
  assert.ok(first.seq < second.seq && second.seq < third.seq);
  assert.deepEqual(second, { ...message(b, 2, a), seq: second.seq, acceptedAt: NOW + 1 });

  assert.deepEqual(await backend.messages.head(a, 10), [first, third]);
  assert.deepEqual(await backend.messages.head(a, 1), [first]);
  assert.deepEqual(await backend.messages.head(b, 10), [second]);
  assert.deepEqual(await backend.messages.count(a), { count: 2, lastSeq: third.seq });
  assert.deepEqual(await backend.messages.count(counter("none")), { count: 0, lastSeq: 0 });

  assert.deepEqual(await backend.messages.pageAfter(0, 10), [
    { seq: first.seq, ...a },
    { seq: second.seq, ...b },
    { seq: third.seq, ...a },
  ]);
  assert.deepEqual(await backend.messages.pageAfter(first.seq, 1), [{ seq: second.seq, ...b }]);

  // Byte order, as SQLite compares ("B" < "a"), whatever the database's collation says.
  await backend.messages.accept(message(counter("B")), NOW);
  assert.equal(await backend.messages.nextIdWithMessages("test/counter", ""), "B");
  assert.equal(await backend.messages.nextIdWithMessages("test/counter", "B"), "a");
  assert.equal(await backend.messages.nextIdWithMessages("test/counter", "a"), "b");
  assert.equal(await backend.messages.nextIdWithMessages("test/counter", "b"), undefined);
  assert.equal(await backend.messages.nextIdWithMessages("test/other", ""), undefined);
});

test("concurrent accepts share transactions: each caller gets its own distinct seq for its own message", async (t) => {
  const { backend, store } = await soleInstance("pgb_accept_group", t);
  const before = backend.messages.accepts.stats();
  const count = 300;
  const stored = await Promise.all(
    Array.from({ length: count }, (_, n) =>
      backend.messages.accept(message(counter(`c${n}`), n % 256), NOW + n),
    ),
  );
  const seqs = stored.map((entry) => entry.seq);
  assert.equal(new Set(seqs).size, count, "every seq distinct");
  // Submitted in one turn, they form groups in submission order: seqs increase with it.
  assert.deepEqual(
    seqs,
    [...seqs].sort((x, y) => x - y),
  );
  const after = backend.messages.accepts.stats();
  assert.equal(after.units - before.units, count);
  assert.ok(
    after.groups - before.groups <= 3,
    `${after.groups - before.groups} transactions for ${count} accepts`,
  );

  // What each caller was told is what the database holds under that seq.
  const { rows } = await store.pool.query<{ seq: string; id: string; value: Buffer; accepted_at: string }>(
    "SELECT seq, id, value, accepted_at FROM messages ORDER BY seq",
  );
  assert.deepEqual(
    rows.map((row) => [Number(row.seq), row.id, row.value[0], Number(row.accepted_at)]),
    stored.map((entry, n) => [entry.seq, `c${n}`, n % 256, NOW + n]),
  );
});

test("an accept PostgreSQL refuses fails alone; the accepts grouped with it are stored", async (t) => {
  const { backend } = await soleInstance("pgb_accept_refused", t);
  const broken = { ...message(counter("bad")), argument: { typename: null, hasValue: true, value: bytes() } };
  const outcomes = await Promise.allSettled([
    backend.messages.accept(message(counter("x"), 1), NOW),
    backend.messages.accept(broken as unknown as NewMessage, NOW),
    backend.messages.accept(message(counter("y"), 2), NOW),
  ]);
  assert.deepEqual(
    outcomes.map((outcome) => outcome.status),
    ["fulfilled", "rejected", "fulfilled"],
  );
  assert.equal((outcomes[1] as PromiseRejectedResult).reason.code, "SB_STORE_FAILED");
  assert.equal((await backend.messages.head(counter("x"), 10)).length, 1);
  assert.equal((await backend.messages.head(counter("y"), 10)).length, 1);
  assert.deepEqual(await backend.messages.head(counter("bad"), 10), []);
});

test("a result is applied in StateFun's order: messages, timers, egress, state, AFTER_INVOKE refresh, batch, suspension", async (t) => {
  const { backend } = await soleInstance("pgb_apply", t);
  const self = counter("self");
  const other = counter("other");
  const specs = [
    spec("count"),
    spec("seen", ExpireMode.AFTER_WRITE, 1000),
    spec("session", ExpireMode.AFTER_INVOKE, 500),
  ];
  await backend.applyResult(
    resultWrite(self, {
      mutations: [
        { kind: "modify", spec: specs[0] as StateSpec, value: bytes(1) },
        { kind: "modify", spec: specs[2] as StateSpec, value: bytes(7) },
        { kind: "modify", spec: spec("gone"), value: bytes(9) },
      ],
    }),
  );
  const batch = [
    await backend.messages.accept(message(self, 1), NOW),
    await backend.messages.accept(message(self, 2), NOW),
  ];
  const untouched = await backend.messages.accept(message(self, 3), NOW);
  await backend.suspensions.upsert({
    address: self,
    failures: 3,
    errorCode: "SB_X",
    errorMessage: "x",
    suspendedAt: NOW,
    retryAt: NOW + 10,
  });

  const later = NOW + 100;
  const timer = (token: string | undefined, dueAt: number, value: number) => ({
    kind: "schedule" as const,
    timer: { sender: self, ...(token ? { token } : {}), dueAt, message: message(other, value, self) },
  });
  const applied = await backend.applyResult(
    resultWrite(
      self,
      {
        outgoing: [message(other, 10, self), message(self, 11, self)],
        delayed: [
          timer("t1", later + 5000, 1),
          timer("t1", later + 3000, 2), // replaces the first
          timer("t2", later + 100, 3),
          { kind: "cancel", token: "t2" }, // undoes the one just scheduled
          timer(undefined, later + 4000, 4),
          { kind: "cancel", token: "never-scheduled" },
        ],
        egress: [
          { egress: "io/out", topic: "greetings", typename: "t/s", value: bytes(42) },
          { egress: "io/log", typename: "t/s", value: bytes(43) },
        ],
        mutations: [
          { kind: "modify", spec: specs[0] as StateSpec, value: bytes(2) },
          { kind: "modify", spec: specs[1] as StateSpec, value: bytes(5) },
          { kind: "modify", spec: specs[0] as StateSpec, value: bytes(3) }, // the last write of a name wins
          { kind: "delete", spec: spec("gone") },
        ],
      },
      { consumed: batch.map((entry) => entry.seq), specs, clearSuspension: true, now: later },
    ),
  );

  assert.equal(applied.outgoing.length, 2);
  assert.deepEqual(applied.outgoing[0], {
    ...message(other, 10, self),
    seq: applied.outgoing[0]?.seq,
    acceptedAt: later,
  });
  assert.equal(
    applied.earliestTimer,
    later + 100,
    "the earliest scheduled, as step-by-step order reports it",
  );
  assert.deepEqual([...applied.egressIds].sort(), ["io/log", "io/out"]);

  assert.deepEqual(await backend.messages.head(self, 10), [untouched, applied.outgoing[1]]);
  assert.deepEqual(await backend.messages.head(other, 10), [applied.outgoing[0]]);

  const timers = await backend.timers.sentBy(self);
  assert.deepEqual(
    timers.map((entry) => [entry.token, entry.dueAt, entry.message.argument.value[0]]),
    [
      ["t1", later + 3000, 2],
      [undefined, later + 4000, 4],
    ],
  );
  assert.deepEqual(timers[0]?.message, message(other, 2, self));
  assert.deepEqual(
    (await backend.timers.aimedAt(other)).map((entry) => entry.seq),
    timers.map((entry) => entry.seq),
  );
  assert.equal(await backend.timers.count(), 2);

  const pending = await backend.egress.pending("io/out", 0, 10);
  assert.deepEqual(
    pending.map(({ egress, topic, typename, value, createdAt, attempts }) => ({
      egress,
      topic,
      typename,
      value,
      createdAt,
      attempts,
    })),
    [
      {
        egress: "io/out",
        topic: "greetings",
        typename: "t/s",
        value: bytes(42),
        createdAt: later,
        attempts: 0,
      },
    ],
  );
  assert.equal((await backend.egress.pending("io/log", 0, 10))[0]?.topic, undefined);
  assert.equal(await backend.egress.count(), 2);

  const state = await backend.state.read(self, later);
  assert.deepEqual(state.get("count"), { name: "count", value: bytes(3), expiresAt: null });
  assert.deepEqual(state.get("seen"), { name: "seen", value: bytes(5), expiresAt: later + 1000 });
  assert.deepEqual(
    state.get("session"),
    { name: "session", value: bytes(7), expiresAt: later + 500 },
    "refreshed",
  );
  assert.equal(state.has("gone"), false);
  assert.deepEqual(await backend.suspensions.all(), []);
});

test("AFTER_INVOKE refresh never revives an expired value; reads hide expired values and the purge removes them", async (t) => {
  const { backend } = await soleInstance("pgb_expiry", t);
  const self = counter("self");
  const session = spec("session", ExpireMode.AFTER_INVOKE, 100);
  const kept = spec("kept");
  await backend.applyResult(
    resultWrite(self, {
      mutations: [
        { kind: "modify", spec: session, value: bytes(1) },
        { kind: "modify", spec: kept, value: bytes(2) },
      ],
    }),
  );
  assert.equal((await backend.state.read(self, NOW + 99)).get("session")?.expiresAt, NOW + 100);
  assert.equal((await backend.state.read(self, NOW + 100)).has("session"), false, "expired at its time");
  await backend.applyResult(resultWrite(self, {}, { specs: [session, kept], now: NOW + 150 }));
  assert.equal((await backend.state.read(self, NOW + 150)).has("session"), false, "stays expired");
  assert.equal(await backend.state.purgeExpired(NOW + 150), 1);
  assert.equal(await backend.state.purgeExpired(NOW + 150), 0);
  assert.deepEqual([...(await backend.state.read(self, NOW + 10_000)).keys()], ["kept"]);
});

test("specs: the first registration of a name wins; all() groups them per function type", async (t) => {
  const { backend } = await soleInstance("pgb_specs", t);
  await backend.specs.register("test/a", [spec("x"), spec("y", ExpireMode.AFTER_WRITE, 5)], NOW);
  await backend.specs.register("test/a", [spec("x", ExpireMode.AFTER_INVOKE, 9), spec("z")], NOW + 1);
  await backend.specs.register("test/b", [spec("x")], NOW);
  const all = await backend.specs.all();
  assert.deepEqual(all.get("test/a"), [spec("x"), spec("y", ExpireMode.AFTER_WRITE, 5), spec("z")]);
  assert.deepEqual(all.get("test/b"), [spec("x")]);
});

test("suspensions: upsert updates failures, error and retry time but keeps when it was suspended", async (t) => {
  const { backend } = await soleInstance("pgb_suspensions", t);
  const base = {
    address: counter("s"),
    failures: 1,
    errorCode: "A",
    errorMessage: "a",
    suspendedAt: NOW,
    retryAt: NOW + 1,
  };
  await backend.suspensions.upsert(base);
  await backend.suspensions.upsert({
    ...base,
    failures: 2,
    errorCode: "B",
    errorMessage: "b",
    suspendedAt: NOW + 5,
    retryAt: NOW + 9,
  });
  assert.deepEqual(await backend.suspensions.all(), [
    { ...base, failures: 2, errorCode: "B", errorMessage: "b", retryAt: NOW + 9 },
  ]);
});

test("dead letters: a backlog moves aside with its suspension; re-inject and drop each work once", async (t) => {
  const { backend } = await soleInstance("pgb_dead_letters", t);
  const self = counter("stuck");
  const backlog = [
    await backend.messages.accept(message(self, 1, counter("x")), NOW),
    await backend.messages.accept(message(self, 2), NOW + 1),
  ];
  const bystander = await backend.messages.accept(message(counter("fine")), NOW);
  await backend.suspensions.upsert({
    address: self,
    failures: 3,
    errorCode: "E",
    errorMessage: "e",
    suspendedAt: NOW,
    retryAt: NOW,
  });

  const moved = await backend.deadLetters.moveBacklog(self, { code: "SB_E", message: "broken" }, NOW + 50);
  assert.deepEqual(
    moved.map((letter) => letter.message),
    backlog,
  );
  assert.deepEqual(await backend.messages.head(self, 10), []);
  assert.deepEqual(await backend.messages.head(counter("fine"), 10), [bystander]);
  assert.deepEqual(await backend.suspensions.all(), []);
  assert.equal(await backend.deadLetters.count(), 2);

  const letters = await backend.deadLetters.list(0, 10);
  assert.deepEqual(letters, moved, "what the move returned is what the store lists");
  assert.deepEqual(
    letters.map((letter) => [letter.message, letter.errorCode, letter.errorMessage, letter.deadLetteredAt]),
    backlog.map((entry) => [entry, "SB_E", "broken", NOW + 50]),
  );
  const [first, second] = letters;
  assert.ok(first && second && first.seq < second.seq);
  assert.deepEqual(await backend.deadLetters.list(first.seq, 10), [second]);
  assert.deepEqual(await backend.deadLetters.list(0, 10, self), letters);
  assert.deepEqual(await backend.deadLetters.list(0, 10, counter("fine")), []);
  assert.deepEqual(await backend.deadLetters.get(first.seq), first);

  const reinjected = await backend.deadLetters.reinject(first.seq, NOW + 60);
  assert.ok(reinjected && reinjected.seq > bystander.seq);
  assert.deepEqual(reinjected, {
    ...message(self, 1, counter("x")),
    seq: reinjected.seq,
    acceptedAt: NOW + 60,
  });
  assert.deepEqual(await backend.messages.head(self, 10), [reinjected]);
  assert.equal(await backend.deadLetters.reinject(first.seq, NOW), undefined, "only once");
  assert.equal(await backend.deadLetters.get(first.seq), undefined);

  assert.equal(await backend.deadLetters.drop(second.seq), true);
  assert.equal(await backend.deadLetters.drop(second.seq), false);
  assert.equal(await backend.deadLetters.count(), 0);
});

test("timers fire once each, oldest due first, up to the limit, as messages from their sender", async (t) => {
  const { backend } = await soleInstance("pgb_timers", t);
  const senders = [counter("s1"), counter("s2"), counter("s3")];
  assert.equal(await backend.timers.nextDueAt(), undefined);
  await Promise.all(
    senders.map((sender, n) =>
      backend.applyResult(
        resultWrite(sender, {
          delayed: [
            {
              kind: "schedule",
              timer: { sender, dueAt: NOW + 10 * (n + 1), message: message(counter("t"), n, sender) },
            },
          ],
        }),
      ),
    ),
  );
  assert.equal(await backend.timers.nextDueAt(), NOW + 10);
  assert.deepEqual(await backend.timers.fireDue(NOW + 5, 10), []);

  const fired = await backend.timers.fireDue(NOW + 30, 2);
  assert.deepEqual(
    fired.map((entry) => [entry.target.id, entry.caller?.id, entry.argument.value[0], entry.acceptedAt]),
    [
      ["t", "s1", 0, NOW + 30],
      ["t", "s2", 1, NOW + 30],
    ],
  );
  assert.deepEqual(await backend.messages.head(counter("t"), 10), fired);
  assert.equal(await backend.timers.nextDueAt(), NOW + 30);

  // Racing callers: the last timer goes to exactly one of them.
  const racing = await Promise.all([
    backend.timers.fireDue(NOW + 30, 10),
    backend.timers.fireDue(NOW + 30, 10),
  ]);
  assert.equal(racing.flat().length, 1);
  assert.equal(await backend.timers.count(), 0);
  assert.equal(await backend.timers.nextDueAt(), undefined);
});

test("egress: pending pages by seq, delete removes, pop hands each record to exactly one reader", async (t) => {
  const { backend } = await soleInstance("pgb_egress", t);
  const record = (topic: string, value: number) => ({
    egress: "io/play",
    topic,
    typename: "t/s",
    value: bytes(value),
  });
  await backend.applyResult(
    resultWrite(counter("p"), { egress: [record("a", 1), record("b", 2), record("a", 3), record("a", 4)] }),
  );
  const all = await backend.egress.pending("io/play", 0, 10);
  assert.deepEqual(
    all.map((entry) => [entry.topic, entry.value[0]]),
    [
      ["a", 1],
      ["b", 2],
      ["a", 3],
      ["a", 4],
    ],
  );
  assert.deepEqual(await backend.egress.pending("io/play", all[0]?.seq ?? 0, 1), [all[1]]);
  assert.deepEqual(await backend.egress.pending("io/other", 0, 10), []);

  await backend.egress.delete(all[1]?.seq ?? 0);
  await backend.egress.delete(all[1]?.seq ?? 0); // already gone: nothing to do
  assert.equal(await backend.egress.count(), 3);

  const popped = await Promise.all([
    backend.egress.pop("io/play", "a"),
    backend.egress.pop("io/play", "a"),
    backend.egress.pop("io/play", "a"),
    backend.egress.pop("io/play", "a"),
  ]);
  assert.deepEqual(popped.map((entry) => entry?.value[0]).sort(), [1, 3, 4, undefined]);
  assert.equal(await backend.egress.pop("io/play", "b"), undefined, "b's record was deleted");
  assert.equal(await backend.egress.count(), 0);
});

test("an instance that lost a partition writes nothing there (ownership lost) while accepts and its other partitions go on", async (t) => {
  const c = await testPostgresCluster("pgb_fencing", t, PARTITIONS);
  const a = await c.join("a");
  const b = await c.join("b");
  // a's leases run out; b, at its fair share of half, takes the lowest partitions.
  await a.store.pool.query("UPDATE partitions SET lease_expires_at = now() - interval '1 second'");
  await b.owner.tick();
  const taken = b.owner.owned().map((lease) => lease.partition);
  assert.deepEqual(taken, [0, 1, 2, 3]);
  assert.equal(a.owner.owned().length, PARTITIONS, "a has not noticed yet");

  const lost = addressInPartition(0);
  const kept = addressInPartition(5);
  const [lostMessage, keptMessage] = [
    await a.backend.messages.accept(message(lost), NOW),
    await a.backend.messages.accept(message(kept), NOW),
  ];
  await b.backend.applyResult(
    resultWrite(lost, {
      delayed: [{ kind: "schedule", timer: { sender: lost, dueAt: NOW, message: message(kept, 1, lost) } }],
    }),
  );

  // Submitted together they share one transaction; the lost one fails alone.
  const write = (address: AddressRef, consumed: number) =>
    resultWrite(
      address,
      {
        outgoing: [message(counter("elsewhere"))],
        mutations: [{ kind: "modify", spec: spec("count"), value: bytes(1) }],
      },
      { consumed: [consumed] },
    );
  const groupsBefore = a.backend.results.commits.stats().groups;
  const [lostResult, keptResult] = await Promise.allSettled([
    a.backend.applyResult(write(lost, lostMessage.seq)),
    a.backend.applyResult(write(kept, keptMessage.seq)),
  ]);
  assert.equal(a.backend.results.commits.stats().groups - groupsBefore, 1, "one transaction for both");
  assert.equal(lostResult.status, "rejected");
  assert.equal((lostResult as PromiseRejectedResult).reason.code, "SB_CLUSTER_OWNERSHIP_LOST");
  assert.equal(keptResult.status, "fulfilled");
  assert.deepEqual(await a.backend.messages.head(lost, 10), [lostMessage], "its batch was not consumed");
  assert.equal((await a.backend.state.read(lost, NOW)).size, 0);
  assert.equal((await a.backend.state.read(kept, NOW)).size, 1);
  assert.equal(
    (await a.backend.messages.head(counter("elsewhere"), 10)).length,
    1,
    "only the kept result's message",
  );
  assert.equal(a.owner.epochOf(0), undefined, "the failed check dropped partition 0 at once");
  assert.notEqual(a.owner.epochOf(1), undefined, "partition 1's loss is not noticed yet");

  // Stale view: the check in the database refuses. Dropped from the view: refused before any query.
  const staleBacklog = await a.backend.messages.accept(message(addressInPartition(1)), NOW);
  await rejectsWithCode(
    a.backend.deadLetters.moveBacklog(addressInPartition(1), { code: "E", message: "e" }, NOW),
    "SB_CLUSTER_OWNERSHIP_LOST",
  );
  assert.deepEqual(await a.backend.messages.head(addressInPartition(1), 10), [staleBacklog]);
  assert.equal(await a.backend.deadLetters.count(), 0);
  await rejectsWithCode(
    a.backend.suspensions.upsert({
      address: lost,
      failures: 1,
      errorCode: "E",
      errorMessage: "e",
      suspendedAt: NOW,
      retryAt: NOW,
    }),
    "SB_CLUSTER_OWNERSHIP_LOST",
  );
  assert.deepEqual(await a.backend.suspensions.all(), []);
  await a.owner.tick();
  assert.deepEqual(
    a.owner.owned().map((lease) => lease.partition),
    [4, 5, 6, 7],
  );

  // Work reads see owned partitions only: a no longer sees the lost partition's message or timer.
  assert.deepEqual(
    (await a.backend.messages.pageAfter(0, 10)).map((row) => row.id),
    partitionOfAddress(counter("elsewhere")) >= 4 ? ["elsewhere"] : [],
  );
  assert.equal(await a.backend.timers.nextDueAt(), undefined);
  assert.deepEqual(await a.backend.timers.fireDue(NOW, 10), []);
  assert.equal(await b.backend.timers.nextDueAt(), NOW);

  // Accepting is any instance's right, lost partition or not.
  const accepted = await a.backend.messages.accept(message(lost, 2), NOW);
  assert.deepEqual(await b.backend.messages.head(lost, 10), [lostMessage, accepted]);
  assert.equal((await b.backend.applyResult(write(lost, lostMessage.seq))).outgoing.length, 1);
});

test("a timer sweep or backlog move by an owner replaced since its last check fails whole and writes nothing", async (t) => {
  const c = await testPostgresCluster("pgb_fencing_sweep", t, PARTITIONS);
  const a = await c.join("a");
  const b = await c.join("b");
  const lost = addressInPartition(1);
  await a.backend.applyResult(
    resultWrite(lost, {
      delayed: [
        { kind: "schedule", timer: { sender: lost, dueAt: NOW, message: message(counter("t"), 1, lost) } },
      ],
    }),
  );
  const backlog = await a.backend.messages.accept(message(lost), NOW);
  await a.store.pool.query("UPDATE partitions SET lease_expires_at = now() - interval '1 second'");
  await b.owner.tick();
  assert.ok(b.owner.epochOf(1) !== undefined && a.owner.epochOf(1) !== undefined, "both believe they own it");

  await rejectsWithCode(a.backend.timers.fireDue(NOW, 10), "SB_CLUSTER_OWNERSHIP_LOST");
  assert.equal(await b.backend.timers.count(), 1, "the timer is still pending");
  assert.deepEqual(await b.backend.messages.head(counter("t"), 10), []);
  assert.equal(a.owner.epochOf(1), undefined, "the failed check dropped the lost partitions");
  assert.deepEqual(await a.backend.timers.fireDue(NOW, 10), [], "what a still owns has nothing due");

  const fired = await b.backend.timers.fireDue(NOW, 10);
  assert.equal(fired.length, 1);
  const moved = await b.backend.deadLetters.moveBacklog(lost, { code: "E", message: "e" }, NOW);
  assert.deepEqual(
    moved.map((letter) => letter.message),
    [backlog],
  );
});

test("results submitted together share one transaction and its statements; each gets its own outcome", async (t) => {
  const { backend } = await soleInstance("pgb_result_group", t);
  const count = spec("count");
  const addresses = Array.from({ length: 40 }, (_, n) => counter(`g${n}`));
  const batches = await Promise.all(
    addresses.map((address) => backend.messages.accept(message(address), NOW)),
  );
  const groupsBefore = backend.results.commits.stats().groups;
  const applied = await Promise.all(
    addresses.map((address, n) =>
      backend.applyResult(
        resultWrite(
          address,
          {
            outgoing: [message(counter("sink"), n, address)],
            mutations: [{ kind: "modify", spec: count, value: bytes(n) }],
            egress: n % 2 === 0 ? [{ egress: "io/even", typename: "t/s", value: bytes(n) }] : [],
          },
          { consumed: [(batches[n] as { seq: number }).seq], now: NOW + n },
        ),
      ),
    ),
  );
  assert.ok(
    backend.results.commits.stats().groups - groupsBefore <= 2,
    "one or two transactions for 40 results",
  );
  applied.forEach((result, n) => {
    assert.deepEqual(result.outgoing, [
      { ...message(counter("sink"), n, addresses[n]), seq: result.outgoing[0]?.seq, acceptedAt: NOW + n },
    ]);
    assert.deepEqual([...result.egressIds], n % 2 === 0 ? ["io/even"] : []);
  });
  assert.deepEqual(
    (await backend.messages.head(counter("sink"), 100)).map((entry) => entry.argument.value[0]),
    addresses.map((_, n) => n),
  );
  for (const [n, address] of addresses.entries()) {
    assert.deepEqual([...((await backend.state.read(address, NOW)).get("count")?.value ?? [])], [n]);
    assert.deepEqual(await backend.messages.head(address, 10), [], "its batch was consumed");
  }
  assert.equal(await backend.egress.count(), 20);
});

test("two results for one address in one group apply in submission order; a failing result undoes only itself", async (t) => {
  const { backend } = await soleInstance("pgb_result_group_order", t);
  const count = spec("count");
  const self = counter("same");
  const put = (value: number, extra: Partial<ResultWrite> = {}) =>
    resultWrite(self, { mutations: [{ kind: "modify", spec: count, value: bytes(value) }] }, extra);
  const groupsBefore = backend.results.commits.stats().groups;
  await Promise.all([backend.applyResult(put(1)), backend.applyResult(put(2))]);
  assert.equal(backend.results.commits.stats().groups - groupsBefore, 1, "in one transaction");
  assert.deepEqual([...((await backend.state.read(self, NOW)).get("count")?.value ?? [])], [2]);

  // A time PostgreSQL cannot store makes the shared statements fail; the others are written again alone.
  const others = [counter("o1"), counter("o2")];
  const outcomes = await Promise.allSettled([
    backend.applyResult(
      resultWrite(others[0] as AddressRef, { mutations: [{ kind: "modify", spec: count, value: bytes(7) }] }),
    ),
    backend.applyResult(
      resultWrite(
        self,
        { mutations: [{ kind: "modify", spec: spec("ttl", ExpireMode.AFTER_WRITE, 10), value: bytes(3) }] },
        { now: Number.NaN },
      ),
    ),
    backend.applyResult(
      resultWrite(others[1] as AddressRef, { mutations: [{ kind: "modify", spec: count, value: bytes(8) }] }),
    ),
  ]);
  assert.deepEqual(
    outcomes.map((outcome) => outcome.status),
    ["fulfilled", "rejected", "fulfilled"],
  );
  assert.equal((outcomes[1] as PromiseRejectedResult).reason.code, "SB_STORE_FAILED");
  assert.deepEqual([...((await backend.state.read(self, NOW)).get("count")?.value ?? [])], [2]);
  assert.deepEqual(
    [...((await backend.state.read(others[0] as AddressRef, NOW)).get("count")?.value ?? [])],
    [7],
  );
  assert.deepEqual(
    [...((await backend.state.read(others[1] as AddressRef, NOW)).get("count")?.value ?? [])],
    [8],
  );
});

test("close commits what was submitted before it, then refuses new writes", async (t) => {
  const c = await testPostgresCluster("pgb_close", t, PARTITIONS);
  const { backend, owner } = await c.join("closing");
  const accepted = backend.messages.accept(message(counter("last")), NOW);
  const applied = backend.applyResult(
    resultWrite(counter("last"), { mutations: [{ kind: "modify", spec: spec("count"), value: bytes(1) }] }),
  );
  // Stopped: the result is refused by its fencing check; the accept needs none.
  const refused = rejectsWithCode(applied, "SB_CLUSTER_OWNERSHIP_LOST");
  await owner.stop();
  await refused;
  await backend.close();
  const stored = await accepted;
  await assert.rejects(backend.messages.accept(message(counter("late")), NOW), /closed/);

  const reopened = await PostgresStore.open({ url: c.url });
  t.after(() => reopened.close());
  const { rows } = await reopened.pool.query<{ seq: string }>("SELECT seq FROM messages");
  assert.deepEqual(
    rows.map((row) => Number(row.seq)),
    [stored.seq],
  );
});

test("purging expired state reads only values that can expire (the state_by_expiry index)", async (t) => {
  const { backend, store } = await soleInstance("pgb_purge_plan", t);
  // Many values that never expire, a few that do: the purge must not walk the former.
  await store.pool.query(
    `INSERT INTO state SELECT g % ${PARTITIONS}, 'test/f', 'k' || g, 'n', '\\x00', CASE WHEN g % 100 = 0 THEN ${NOW} + g END
     FROM generate_series(1, 20000) AS g`,
  );
  await store.pool.query("ANALYZE state");
  const { rows } = await store.pool.query<{ "QUERY PLAN": string }>(
    "EXPLAIN DELETE FROM state WHERE expires_at IS NOT NULL AND expires_at <= $1 AND partition = ANY($2::integer[])",
    [NOW, [0, 1, 2]],
  );
  assert.match(rows.map((row) => row["QUERY PLAN"]).join("\n"), /Index Scan using state_by_expiry/);
  assert.equal(await backend.state.purgeExpired(NOW + 10_000), 100);
  assert.equal(await backend.state.purgeExpired(NOW + 20_000), 100);
});

test("two instances writing their own partitions while renewing their leases never block each other for good", async (t) => {
  const c = await testPostgresCluster("pgb_two_writers", t, PARTITIONS);
  const a = await c.join("a");
  const b = await c.join("b");
  for (let round = 0; round < 3; round++) for (const instance of [a, b]) await instance.owner.tick();
  const ownedBy = (instance: TestClusterInstance) =>
    new Set(instance.owner.owned().map((lease) => lease.partition));
  assert.equal(ownedBy(a).size + ownedBy(b).size, PARTITIONS);

  const addresses = Array.from({ length: 40 }, (_, n) => counter(`w${n}`));
  const ownerOf = (address: AddressRef) => (ownedBy(a).has(partitionOfAddress(address)) ? a : b);
  const count = spec("count");
  const rounds = 10;
  const work = addresses.map(async (address, n) => {
    const instance = ownerOf(address);
    for (let round = 1; round <= rounds; round++) {
      // Accepted by either instance, applied by the owner, with a timer to fire.
      const accepted = await (n % 2 === 0 ? a : b).backend.messages.accept(message(address, round), NOW);
      await instance.backend.applyResult(
        resultWrite(
          address,
          {
            outgoing: [message(addresses[(n + 1) % addresses.length] as AddressRef, round, address)],
            delayed: [
              {
                kind: "schedule",
                timer: { sender: address, token: "tick", dueAt: NOW, message: message(address, 0, address) },
              },
            ],
            mutations: [{ kind: "modify", spec: count, value: bytes(round) }],
          },
          { consumed: [accepted.seq] },
        ),
      );
    }
  });
  const renewals = (async () => {
    for (let round = 0; round < 10; round++) await Promise.all([a.owner.tick(), b.owner.tick()]);
  })();
  let fired = 0;
  const sweeps = (async () => {
    for (let round = 0; round < 10; round++) {
      const batches = await Promise.all([
        a.backend.timers.fireDue(NOW, 100),
        b.backend.timers.fireDue(NOW, 100),
      ]);
      fired += batches.flat().length;
    }
  })();
  await Promise.all([...work, renewals, sweeps]);

  for (const address of addresses) {
    assert.deepEqual([...((await a.backend.state.read(address, NOW)).get("count")?.value ?? [])], [rounds]);
  }
  // Each address's own messages were consumed: what is left is every outgoing message and
  // every fired timer's message, each once.
  const { rows } = await a.store.pool.query<{ n: number }>("SELECT count(*)::integer AS n FROM messages");
  assert.equal(rows[0]?.n, addresses.length * rounds + fired);
  assert.ok((await a.backend.timers.count()) <= addresses.length, "one pending timer per address at most");
});

test("a result read under an epoch the instance has since lost and taken back never commits", async (t) => {
  const c = await testPostgresCluster("pgb_stale_claim", t, PARTITIONS);
  const a = await c.join("a");
  const address = addressInPartition(0);
  const batch = await a.backend.messages.accept(message(address), NOW);
  const readUnder = a.owner.epochOf(0);
  assert.notEqual(readUnder, undefined);
  // While a's call is out (frozen, say), its lease runs out, b takes the partition, b leaves,
  // and a takes it back: a holds it again, with a new epoch.
  await a.store.pool.query("UPDATE partitions SET lease_expires_at = now() - interval '1 second'");
  const b = await c.join("b");
  await b.owner.tick();
  assert.notEqual(b.owner.epochOf(0), undefined, "b took partition 0");
  await b.owner.stop();
  await a.owner.tick();
  await a.owner.tick();
  const heldNow = a.owner.epochOf(0);
  assert.ok(heldNow !== undefined && heldNow !== readUnder, "a holds partition 0 again, with a new epoch");

  const stale = resultWrite(
    address,
    { mutations: [{ kind: "modify", spec: spec("count"), value: bytes(1) }] },
    { consumed: [batch.seq], claim: { partition: 0, epoch: readUnder as number } },
  );
  await rejectsWithCode(a.backend.applyResult(stale), "SB_CLUSTER_OWNERSHIP_LOST");
  assert.deepEqual(await a.backend.messages.head(address, 10), [batch], "the batch was not consumed");
  assert.equal((await a.backend.state.read(address, NOW)).size, 0, "nothing was written");
  // Read again under the epoch held now, the same result commits.
  await a.backend.applyResult({ ...stale, claim: { partition: 0, epoch: heldNow } });
  assert.equal((await a.backend.state.read(address, NOW)).size, 1);
});
