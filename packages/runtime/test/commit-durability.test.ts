import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { CommitQueue, type DurableSync } from "../src/store/commit-queue.js";
import { openSqlite } from "../src/store/sqlite-driver.js";
import { Store } from "../src/store/store.js";
import { tempDir } from "./support/temp-dir.js";

/** A disk whose fsyncs finish only when the test says so. */
class HeldSync implements DurableSync {
  readonly waiting: Array<(error: Error | null) => void> = [];
  syncNowCalls = 0;
  sync(done: (error: Error | null) => void): void {
    this.waiting.push(done);
  }
  syncNow(): void {
    this.syncNowCalls++;
  }
  finish(error: Error | null = null): void {
    const done = this.waiting.shift();
    assert.ok(done, "no fsync in flight");
    done(error);
  }
}

function queue(t: import("node:test").TestContext, sync: HeldSync) {
  const db = openSqlite(join(tempDir(t), "q.db"));
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE t (v INTEGER)");
  t.after(() => db.close());
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  return { db, commits: new CommitQueue(db, () => {}, sync), insert: (v: number) => insert.run(v) };
}

const settledYet = async (promise: Promise<unknown>) => {
  let settled = false;
  void promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
};

test("a committed unit is acknowledged only after the fsync that covers it", async (t) => {
  const sync = new HeldSync();
  const { db, commits, insert } = queue(t, sync);
  const unit = commits.submit(() => insert(1));
  assert.equal(await settledYet(unit), false, "resolved before the disk had it");
  assert.equal(sync.waiting.length, 1);
  // Committed (visible to this process) while the fsync runs.
  assert.equal((db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n, 1);
  sync.finish();
  await unit;
});

test("groups committed while an fsync runs share the next one, in order", async (t) => {
  const sync = new HeldSync();
  const { commits, insert } = queue(t, sync);
  const first = commits.submit(() => insert(1));
  await new Promise((resolve) => setImmediate(resolve));
  const second = commits.submit(() => insert(2));
  await new Promise((resolve) => setImmediate(resolve));
  const third = commits.submit(() => insert(3));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sync.waiting.length, 1, "one fsync at a time");
  sync.finish();
  await first;
  assert.equal(await settledYet(second), false);
  assert.equal(sync.waiting.length, 1, "the next fsync covers both later groups");
  sync.finish();
  await Promise.all([second, third]);
});

test("a failed fsync fails every unit it covered; a unit that threw keeps its own error", async (t) => {
  const sync = new HeldSync();
  const { commits, insert } = queue(t, sync);
  const good = commits.submit(() => insert(1));
  const bad = commits.submit(() => {
    insert(2);
    throw new Error("the unit's own failure");
  });
  await new Promise((resolve) => setImmediate(resolve));
  sync.finish(new Error("EIO"));
  await assert.rejects(good, /EIO/);
  await assert.rejects(bad, /own failure/);
});

test("whenDurable waits for work already committed; close makes everything durable at once", async (t) => {
  const sync = new HeldSync();
  const { commits, insert } = queue(t, sync);
  await commits.whenDurable();
  const unit = commits.submit(() => insert(1));
  await new Promise((resolve) => setImmediate(resolve));
  const durable = commits.whenDurable();
  assert.equal(await settledYet(durable), false);
  const late = commits.submit(() => insert(2));
  commits.close();
  assert.equal(sync.syncNowCalls, 1);
  await Promise.all([unit, late, durable]);
});

test("a store with full durability keeps what it acknowledged across a reopen", async (t) => {
  const dir = tempDir(t);
  let store = Store.open(dir, "full");
  const address = { fn: "test/counter", id: "a" };
  await store.commits.submit(() => store.state.put(address, "count", new Uint8Array([7]), null));
  store.close();
  store = Store.open(dir, "full");
  t.after(() => store.close());
  assert.deepEqual([...(store.state.read(address, Date.now()).get("count")?.value ?? [])], [7]);
});
