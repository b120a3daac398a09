/**
 * The store contract suite: the behaviour every StoreBackend must have, written once and run
 * against each backend (test/store-contract.test.ts). A backend is given as a place that can
 * be opened, closed and opened again (what survives a restart is part of the contract).
 */
import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import type { StoreBackend } from "../../src/store/contract.js";
import { ExpireMode, type NewMessage, type ResultPlan, type StateSpec } from "../../src/store/records.js";

export interface BackendPlace {
  /** Opens the backend on this place's storage; may be called again after close(). */
  open(): Promise<StoreBackend>;
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) => new TextDecoder().decode(value);

function message(fn: string, id: string, body: string, caller?: { fn: string; id: string }): NewMessage {
  return {
    target: { fn, id },
    ...(caller ? { caller } : {}),
    argument: { typename: "test/text", hasValue: true, value: bytes(body) },
  };
}

const EMPTY: ResultPlan = { outgoing: [], delayed: [], egress: [], mutations: [] };
const COUNT: StateSpec = {
  name: "count",
  typename: "test/int",
  expireMode: ExpireMode.NONE,
  expireAfterMs: 0,
};
const SHORT: StateSpec = {
  name: "short",
  typename: "test/int",
  expireMode: ExpireMode.AFTER_WRITE,
  expireAfterMs: 1000,
};

export function runStoreContract(name: string, place: (t: TestContext) => Promise<BackendPlace>): void {
  async function opened(t: TestContext): Promise<{ backend: StoreBackend; place: BackendPlace }> {
    const where = await place(t);
    const backend = await where.open();
    t.after(() => backend.close());
    return { backend, place: where };
  }

  test(`${name}: accepted messages are kept in acceptance order, per address and across addresses`, async (t) => {
    const { backend } = await opened(t);
    const a1 = await backend.messages.accept(message("t/f", "a", "1"), 10);
    const b1 = await backend.messages.accept(message("t/f", "b", "1"), 11);
    const a2 = await backend.messages.accept(message("t/f", "a", "2", { fn: "t/g", id: "x" }), 12);
    assert.ok(a1.seq < b1.seq && b1.seq < a2.seq, "seqs grow in acceptance order");
    assert.deepEqual(await backend.messages.count({ fn: "t/f", id: "a" }), { count: 2, lastSeq: a2.seq });
    assert.deepEqual(await backend.messages.count({ fn: "t/f", id: "none" }), { count: 0, lastSeq: 0 });
    const head = await backend.messages.head({ fn: "t/f", id: "a" }, 10);
    assert.deepEqual(
      head.map((stored) => text(stored.argument.value)),
      ["1", "2"],
    );
    assert.deepEqual(head[1]?.caller, { fn: "t/g", id: "x" });
    assert.equal(head[0]?.caller, undefined);
    assert.equal(head[0]?.acceptedAt, 10);
    assert.equal(
      (await backend.messages.head({ fn: "t/f", id: "a" }, 1)).length,
      1,
      "head honours its limit",
    );
    const page = await backend.messages.pageAfter(a1.seq, 10);
    assert.deepEqual(
      page.map((row) => `${row.id}@${row.seq}`),
      [`b@${b1.seq}`, `a@${a2.seq}`],
    );
    assert.equal((await backend.messages.pageAfter(0, 2)).length, 2, "pageAfter honours its limit");
    assert.equal(
      (await backend.messages.head({ fn: "t/f", id: "a" }, Number.MAX_SAFE_INTEGER)).length,
      2,
      "the whole backlog, as the admin API asks for it",
    );
    assert.equal(
      (await backend.messages.head({ fn: "t/f", id: "a" }, Number.POSITIVE_INFINITY)).length,
      2,
      "no limit (an endpoint without maxNumBatchRequests) reads the whole backlog",
    );
  });

  test(`${name}: pageAfterSkipping may leave out the skipped types' messages, never another's, and says how far it read`, async (t) => {
    const { backend } = await opened(t);
    const live1 = await backend.messages.accept(message("t/live", "a", "1"), 1);
    for (const id of ["p1", "p2", "p3"]) await backend.messages.accept(message("t/parked", id, "x"), 2);
    const live2 = await backend.messages.accept(message("t/live", "b", "1"), 3);
    const parkedLast = await backend.messages.accept(message("t/parked", "p4", "x"), 4);
    const everything = await backend.messages.pageAfterSkipping(0, 100, ["t/parked"]);
    const returned = everything.rows.map((row) => row.seq);
    assert.deepEqual(
      everything.rows.filter((row) => row.fn === "t/live").map((row) => row.seq),
      [live1.seq, live2.seq],
      "every message of another type, in seq order",
    );
    assert.deepEqual(
      returned,
      [...returned].sort((a, b) => a - b),
    );
    assert.ok(everything.scannedTo >= live2.seq, "read past the last row it returned");
    assert.ok(everything.scannedTo <= parkedLast.seq, "no further than what is stored");
    const limited = await backend.messages.pageAfterSkipping(0, 1, ["t/parked"]);
    assert.deepEqual(
      limited.rows.map((row) => row.seq),
      [live1.seq],
    );
    assert.equal(limited.scannedTo, live1.seq, "a full page covers no more than its last row");
    const nothingSkipped = await backend.messages.pageAfterSkipping(live1.seq, 100, []);
    assert.deepEqual(
      nothingSkipped.rows.map((row) => row.seq),
      (await backend.messages.pageAfter(live1.seq, 100)).map((row) => row.seq),
      "with nothing to skip, the same rows as pageAfter",
    );
  });

  test(`${name}: nextIdWithMessages walks a type's waiting ids in order`, async (t) => {
    const { backend } = await opened(t);
    for (const id of ["c", "a", "b"]) await backend.messages.accept(message("t/f", id, "x"), 1);
    await backend.messages.accept(message("t/other", "0", "x"), 1);
    assert.equal(await backend.messages.nextIdWithMessages("t/f", ""), "a");
    assert.equal(await backend.messages.nextIdWithMessages("t/f", "a"), "b");
    assert.equal(await backend.messages.nextIdWithMessages("t/f", "c"), undefined);
  });

  test(`${name}: a bounded accept stores nothing once the address holds maxWaiting messages`, async (t) => {
    const { backend } = await opened(t);
    const a = { fn: "t/f", id: "a" };
    const first = await backend.messages.acceptBounded(message("t/f", "a", "1"), 1, 2);
    assert.ok(first);
    await backend.messages.accept(message("t/f", "b", "other"), 2);
    const second = await backend.messages.acceptBounded(message("t/f", "a", "2"), 3, 2);
    assert.equal(second?.message.target.id, "a", "another address's messages do not count");
    assert.equal(second?.message.acceptedAt, 3);
    // Only a store this instance alone writes can say what else its address held.
    if (backend.soleWriter) assert.deepEqual([first.waitingBefore, second?.waitingBefore], [0, 1]);
    else assert.deepEqual([first.waitingBefore, second?.waitingBefore], [undefined, undefined]);
    assert.equal(await backend.messages.acceptBounded(message("t/f", "a", "3"), 4, 2), undefined);
    // Submitted together (one group where the backend groups): each is bounded on its own.
    const together = await Promise.all([
      backend.messages.acceptBounded(message("t/f", "a", "4"), 5, 2),
      backend.messages.acceptBounded(message("t/f", "a", "5"), 5, 3),
      backend.messages.accept(message("t/f", "c", "plain"), 5),
      backend.messages.acceptBounded(message("t/f", "d", "6"), 5, 1),
    ]);
    assert.equal(together[0], undefined);
    assert.equal(text(together[1]?.message.argument.value), "5");
    assert.equal(together[2]?.target.id, "c");
    assert.equal(together[3]?.message.target.id, "d");
    const head = await backend.messages.head(a, 10);
    assert.deepEqual(
      head.map((stored) => text(stored.argument.value)),
      ["1", "2", "5"],
    );
    assert.equal(head[2]?.seq, together[1]?.message.seq, "the stored message is the one answered");
  });

  test(`${name}: a batch read returns the oldest messages, the live state and, when asked, the count`, async (t) => {
    const { backend } = await opened(t);
    const self = { fn: "t/f", id: "a" };
    const first = await backend.messages.accept(message("t/f", "a", "seed"), 10);
    await backend.applyResult({
      address: self,
      consumed: [first.seq],
      specs: [COUNT, SHORT],
      clearSuspension: false,
      now: 1000,
      plan: {
        ...EMPTY,
        mutations: [
          { kind: "modify", spec: COUNT, value: bytes("7") },
          { kind: "modify", spec: SHORT, value: bytes("s") },
        ],
      },
    });
    const stored = [];
    for (const body of ["1", "2", "3"])
      stored.push(await backend.messages.accept(message("t/f", "a", body), 20));
    await backend.messages.accept(message("t/f", "b", "other"), 21);
    const read = await backend.readBatch({ address: self, limit: 2, now: 1500, withCount: true });
    assert.deepEqual(
      read.messages.map((m) => text(m.argument.value)),
      ["1", "2"],
    );
    assert.equal(read.messages[0]?.acceptedAt, 20);
    assert.deepEqual([...read.state.keys()].sort(), ["count", "short"]);
    assert.equal(text(read.state.get("count")?.value), "7");
    assert.equal(read.state.get("count")?.expiresAt, null);
    assert.equal(read.state.get("short")?.expiresAt, 2000);
    assert.deepEqual(read.count, { count: 3, lastSeq: stored[2]?.seq });
    const later = await backend.readBatch({
      address: self,
      limit: Number.POSITIVE_INFINITY,
      now: 2500,
      withCount: false,
    });
    assert.equal(later.messages.length, 3, "no limit reads the whole backlog");
    assert.equal(later.count, undefined, "counted only when asked");
    assert.deepEqual([...later.state.keys()], ["count"], "expired state is not returned");
    // Asked for at once (one statement where the backend groups reads): each gets its own.
    await backend.messages.accept(message("t/f", "b", "other 2"), 22);
    const [mine, other, nothing] = await Promise.all([
      backend.readBatch({ address: self, limit: 1, now: 1500, withCount: false }),
      backend.readBatch({ address: { fn: "t/f", id: "b" }, limit: 5, now: 1500, withCount: true }),
      backend.readBatch({ address: { fn: "t/g", id: "a" }, limit: 5, now: 1500, withCount: true }),
    ]);
    assert.deepEqual(
      mine?.messages.map((m) => text(m.argument.value)),
      ["1"],
    );
    assert.equal(mine?.state.size, 2);
    assert.deepEqual(
      other?.messages.map((m) => text(m.argument.value)),
      ["other", "other 2"],
    );
    assert.equal(other?.state.size, 0);
    assert.equal(other?.count?.count, 2);
    assert.deepEqual(nothing, { messages: [], state: new Map(), count: { count: 0, lastSeq: 0 } });
    const empty = await backend.readBatch({
      address: { fn: "t/f", id: "none" },
      limit: 5,
      now: 0,
      withCount: true,
    });
    assert.deepEqual(empty, { messages: [], state: new Map(), count: { count: 0, lastSeq: 0 } });
  });

  test(`${name}: applying a result writes messages, timers, egress and state, and consumes the batch`, async (t) => {
    const { backend } = await opened(t);
    const self = { fn: "t/f", id: "a" };
    const first = await backend.messages.accept(message("t/f", "a", "in"), 100);
    await backend.suspensions.upsert({
      address: self,
      failures: 2,
      errorCode: "SB_X",
      errorMessage: "x",
      suspendedAt: 90,
      retryAt: 200,
    });
    const applied = await backend.applyResult({
      address: self,
      consumed: [first.seq],
      specs: [COUNT, SHORT],
      clearSuspension: true,
      now: 1000,
      plan: {
        outgoing: [message("t/f", "b", "out", self)],
        delayed: [
          {
            kind: "schedule",
            timer: { sender: self, token: "t1", dueAt: 5000, message: message("t/f", "c", "later") },
          },
          { kind: "schedule", timer: { sender: self, dueAt: 4000, message: message("t/f", "d", "sooner") } },
        ],
        egress: [{ egress: "t/out", topic: "greetings", typename: "test/text", value: bytes("hi") }],
        mutations: [
          { kind: "modify", spec: COUNT, value: bytes("1") },
          { kind: "modify", spec: SHORT, value: bytes("s") },
        ],
      },
    });
    assert.equal(applied.outgoing.length, 1);
    assert.equal(applied.outgoing[0]?.target.id, "b");
    assert.deepEqual(applied.outgoing[0]?.caller, self);
    assert.equal(applied.earliestTimer, 4000);
    assert.deepEqual([...applied.egressIds], ["t/out"]);
    assert.equal((await backend.messages.count(self)).count, 0, "the batch is consumed");
    assert.equal((await backend.messages.count({ fn: "t/f", id: "b" })).count, 1);
    assert.deepEqual(await backend.suspensions.all(), [], "the suspension is cleared");
    const state = await backend.state.read(self, 1500);
    assert.equal(text(state.get("count")?.value), "1");
    assert.equal(state.get("count")?.expiresAt, null);
    assert.equal(state.get("short")?.expiresAt, 2000, "AFTER_WRITE expiry from the write time");
    assert.equal((await backend.state.read(self, 2000)).has("short"), false, "expired values are never read");
    assert.equal(await backend.timers.count(), 2);
    assert.equal(await backend.timers.nextDueAt(), 4000);
    assert.deepEqual(
      (await backend.timers.sentBy(self)).map((timer) => timer.message.target.id),
      ["d", "c"],
    );
    assert.equal((await backend.timers.aimedAt({ fn: "t/f", id: "c" }))[0]?.token, "t1");
    assert.equal(await backend.egress.count(), 1);

    // A later result cancels one timer, replaces the other token's timer and deletes state.
    await backend.applyResult({
      address: self,
      consumed: [],
      specs: [COUNT, SHORT],
      clearSuspension: false,
      now: 1100,
      plan: {
        ...EMPTY,
        delayed: [
          { kind: "cancel", token: "unknown" },
          {
            kind: "schedule",
            timer: { sender: self, token: "t1", dueAt: 6000, message: message("t/f", "e", "replaced") },
          },
        ],
        mutations: [{ kind: "delete", spec: COUNT }],
      },
    });
    const sent = await backend.timers.sentBy(self);
    assert.deepEqual(
      sent.map((timer) => `${timer.message.target.id}@${timer.dueAt}`),
      ["d@4000", "e@6000"],
      "re-using a pending token replaces its timer",
    );
    assert.equal((await backend.state.read(self, 1100)).has("count"), false);
  });

  test(`${name}: AFTER_INVOKE state is kept alive by every applied result that does not write it`, async (t) => {
    const { backend } = await opened(t);
    const self = { fn: "t/f", id: "a" };
    const session: StateSpec = {
      name: "session",
      typename: "test/int",
      expireMode: ExpireMode.AFTER_INVOKE,
      expireAfterMs: 100,
    };
    await backend.applyResult({
      address: self,
      consumed: [],
      specs: [session],
      clearSuspension: false,
      now: 0,
      plan: { ...EMPTY, mutations: [{ kind: "modify", spec: session, value: bytes("v") }] },
    });
    await backend.applyResult({
      address: self,
      consumed: [],
      specs: [session],
      clearSuspension: false,
      now: 90,
      plan: EMPTY,
    });
    assert.equal((await backend.state.read(self, 150)).get("session")?.expiresAt, 190, "touched at 90");
    assert.equal(await backend.state.purgeExpired(150), 0);
    assert.equal(await backend.state.purgeExpired(200), 1, "purged once expired");
  });

  test(`${name}: specs register once per name, first registration wins`, async (t) => {
    const { backend } = await opened(t);
    await backend.specs.register("t/f", [COUNT], 1);
    await backend.specs.register("t/f", [{ ...COUNT, typename: "test/other" }, SHORT], 2);
    const specs = (await backend.specs.all()).get("t/f") ?? [];
    assert.deepEqual(specs.map((spec) => `${spec.name}:${spec.typename}`).sort(), [
      "count:test/int",
      "short:test/int",
    ]);
  });

  test(`${name}: a suspended backlog moves to dead letters and back, each message once`, async (t) => {
    const { backend } = await opened(t);
    const self = { fn: "t/f", id: "a" };
    await backend.messages.accept(message("t/f", "a", "1"), 1);
    await backend.messages.accept(message("t/f", "a", "2"), 2);
    await backend.messages.accept(message("t/f", "b", "other"), 3);
    await backend.suspensions.upsert({
      address: self,
      failures: 1,
      errorCode: "SB_X",
      errorMessage: "boom",
      suspendedAt: 3,
      retryAt: 9,
    });
    assert.equal((await backend.suspensions.all())[0]?.failures, 1);
    await backend.suspensions.upsert({
      address: self,
      failures: 2,
      errorCode: "SB_X",
      errorMessage: "boom",
      suspendedAt: 3,
      retryAt: 19,
    });
    assert.deepEqual(
      (await backend.suspensions.all()).map((s) => [s.failures, s.retryAt]),
      [[2, 19]],
      "an upsert updates the one row",
    );
    const moved = await backend.deadLetters.moveBacklog(self, { code: "SB_X", message: "boom" }, 50);
    assert.deepEqual(
      moved.map((letter) => text(letter.message.argument.value)),
      ["1", "2"],
    );
    assert.equal((await backend.messages.count(self)).count, 0);
    assert.equal(
      (await backend.messages.count({ fn: "t/f", id: "b" })).count,
      1,
      "other addresses keep theirs",
    );
    assert.deepEqual(await backend.suspensions.all(), []);
    assert.equal(await backend.deadLetters.count(), 2);
    const letters = await backend.deadLetters.list(0, 10, self);
    assert.equal(letters[0]?.errorCode, "SB_X");
    assert.equal(letters[0]?.deadLetteredAt, 50);
    assert.equal(text(letters[1]?.message.argument.value), "2");
    assert.equal((await backend.deadLetters.list(0, 10, { fn: "t/f", id: "b" })).length, 0);

    const [first, second] = letters;
    assert.ok(first && second);
    const reinjected = await backend.deadLetters.reinject(first.seq, 60);
    assert.equal(text(reinjected?.argument.value), "1");
    assert.equal(
      await backend.deadLetters.reinject(first.seq, 61),
      undefined,
      "a dead letter is re-injected once",
    );
    assert.equal((await backend.messages.count(self)).count, 1);
    assert.equal(await backend.deadLetters.drop(second.seq), true);
    assert.equal(await backend.deadLetters.drop(second.seq), false);
    assert.equal(await backend.deadLetters.get(second.seq), undefined);
    assert.equal(await backend.deadLetters.count(), 0);
  });

  test(`${name}: due timers fire exactly once, even when two firings race, and cancelled ones never`, async (t) => {
    const { backend } = await opened(t);
    const self = { fn: "t/f", id: "a" };
    const delayed = Array.from({ length: 20 }, (_, index) => ({
      kind: "schedule" as const,
      timer: {
        sender: self,
        token: `k${index}`,
        dueAt: 100 + index,
        message: message("t/f", `to${index}`, String(index)),
      },
    }));
    await backend.applyResult({
      address: self,
      consumed: [],
      specs: [],
      clearSuspension: false,
      now: 0,
      plan: { ...EMPTY, delayed },
    });
    await backend.applyResult({
      address: self,
      consumed: [],
      specs: [],
      clearSuspension: false,
      now: 1,
      plan: { ...EMPTY, delayed: [{ kind: "cancel", token: "k0" }] },
    });
    assert.deepEqual(await backend.timers.fireDue(99, 100), [], "nothing is due yet");
    const [one, two] = await Promise.all([
      backend.timers.fireDue(200, 100),
      backend.timers.fireDue(200, 100),
    ]);
    const fired = [...one, ...two].map((stored) => stored.target.id).sort();
    assert.equal(fired.length, 19, "each of the 19 pending timers fired once");
    assert.equal(new Set(fired).has("to0"), false, "the cancelled timer never fires");
    assert.equal(await backend.timers.count(), 0);
    assert.equal(await backend.timers.nextDueAt(), undefined);
    assert.equal((await backend.messages.count({ fn: "t/f", id: "to5" })).count, 1);
  });

  test(`${name}: egress records are listed in order, deleted once delivered, and popped exactly once`, async (t) => {
    const { backend } = await opened(t);
    const self = { fn: "t/f", id: "a" };
    const egress = Array.from({ length: 10 }, (_, index) => ({
      egress: "t/out",
      topic: index % 2 === 0 ? "even" : "odd",
      typename: "test/text",
      value: bytes(String(index)),
    }));
    await backend.applyResult({
      address: self,
      consumed: [],
      specs: [],
      clearSuspension: false,
      now: 5,
      plan: { ...EMPTY, egress },
    });
    const pending = await backend.egress.pending("t/out", 0, 100);
    assert.deepEqual(
      pending.map((record) => text(record.value)),
      ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    );
    assert.equal(pending[0]?.createdAt, 5);
    assert.equal((await backend.egress.pending("t/out", pending[7]?.seq ?? 0, 100)).length, 2);
    assert.equal((await backend.egress.pending("t/out", 0, 3)).length, 3, "pending honours its limit");
    await backend.egress.delete(pending[9]?.seq ?? 0);
    await backend.egress.delete(pending[9]?.seq ?? 0); // delivered twice: nothing left to delete
    assert.equal(await backend.egress.count(), 9);
    const pops = await Promise.all(Array.from({ length: 6 }, () => backend.egress.pop("t/out", "even")));
    assert.deepEqual(
      pops.map((record) => (record ? text(record.value) : "none")).sort(),
      ["0", "2", "4", "6", "8", "none"],
      "five even records, each popped once",
    );
    assert.equal(await backend.egress.count(), 4);
  });

  test(`${name}: the store says it is open until it is closed, and counts and reports its group commits`, async (t) => {
    const where = await place(t);
    const backend = await where.open();
    assert.equal(backend.isOpen, true);
    const before = backend.stats();
    const heard: { groupSize: number; seconds: number }[] = [];
    backend.observeCommits((groupSize, seconds) => heard.push({ groupSize, seconds }));
    await Promise.all(
      Array.from({ length: 5 }, (_, index) => backend.messages.accept(message("t/f", "a", String(index)), 1)),
    );
    await backend.applyResult({
      address: { fn: "t/f", id: "a" },
      consumed: [],
      specs: [],
      clearSuspension: false,
      now: 2,
      plan: { ...EMPTY, egress: [{ egress: "t/out", typename: "test/text", value: bytes("e") }] },
    });
    const after = backend.stats();
    assert.ok(after.commits > before.commits, `commits went from ${before.commits} to ${after.commits}`);
    assert.ok(after.units >= before.units + 6, `units went from ${before.units} to ${after.units}`);
    assert.ok(after.lastGroupSize >= 1, "the last commit had a unit");
    assert.ok(after.lastCommitMicros > 0, "the last commit took time");
    assert.equal(heard.length, after.commits - before.commits, "the observer hears every commit");
    assert.equal(
      heard.reduce((sum, commit) => sum + commit.groupSize, 0),
      after.units - before.units,
    );
    assert.ok(
      heard.every((commit) => commit.seconds > 0 && commit.seconds < 60),
      "durations in seconds",
    );
    await backend.close();
    assert.equal(backend.isOpen, false, "closed");
  });

  test(`${name}: everything written survives closing and opening again`, async (t) => {
    const where = await place(t);
    const first = await where.open();
    const self = { fn: "t/f", id: "a" };
    await first.messages.accept(message("t/f", "a", "kept"), 1);
    await first.applyResult({
      address: { fn: "t/f", id: "z" },
      consumed: [],
      specs: [COUNT],
      clearSuspension: false,
      now: 1,
      plan: {
        ...EMPTY,
        delayed: [
          { kind: "schedule", timer: { sender: self, dueAt: 10, message: message("t/f", "b", "t") } },
        ],
        egress: [{ egress: "t/out", typename: "test/text", value: bytes("e") }],
        mutations: [{ kind: "modify", spec: COUNT, value: bytes("7") }],
      },
    });
    await first.specs.register("t/f", [COUNT], 1);
    await first.close();
    const again = await where.open();
    t.after(() => again.close());
    assert.equal(
      (await again.messages.head(self, 10))[0] &&
        text((await again.messages.head(self, 10))[0]?.argument.value),
      "kept",
    );
    assert.equal(text((await again.state.read({ fn: "t/f", id: "z" }, 2)).get("count")?.value), "7");
    assert.equal(await again.timers.count(), 1);
    assert.equal(await again.egress.count(), 1);
    assert.equal((await again.specs.all()).get("t/f")?.[0]?.name, "count");
  });
}
