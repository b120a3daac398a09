import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import type { NewMessage } from "../src/store/records.js";
import { Store } from "../src/store/store.js";
import { tempDir } from "./support/temp-dir.js";

const address = { fn: "test/counter", id: "a" };
const bytes = (...values: number[]) => new Uint8Array(values);
const message = (id: string): NewMessage => ({
  target: { fn: "test/counter", id },
  argument: { typename: "t/x", hasValue: true, value: bytes(1) },
});

function stateBytes(store: Store, name: string, now = Date.now()): number[] | undefined {
  const value = store.state.read(address, now).get(name)?.value;
  return value ? [...value] : undefined;
}

function open(t: TestContext): Store {
  const store = Store.open(tempDir(t));
  t.after(() => store.close());
  return store;
}

test("a unit that throws rolls back alone: its state write is never read back and the rest of the group commits", async (t) => {
  const store = open(t);
  await store.commits.submit(() => store.state.put(address, "count", bytes(1), null));
  assert.deepEqual(stateBytes(store, "count"), [1]);

  const failing = store.commits.submit(() => {
    store.state.put(address, "count", bytes(2), null);
    store.state.put({ fn: "test/counter", id: "new" }, "count", bytes(9), null);
    throw new Error("boom");
  });
  const other = store.commits.submit(() => store.messages.insert(message("b"), Date.now()));
  await assert.rejects(failing, /boom/);
  assert.equal((await other).target.id, "b");

  assert.deepEqual(stateBytes(store, "count"), [1]);
  assert.equal(store.state.read({ fn: "test/counter", id: "new" }, Date.now()).size, 0);
  assert.equal(store.messages.count(), 1);
});

test("a failing single-statement unit stores nothing and does not disturb its group", async (t) => {
  const store = open(t);
  const broken = { ...message("x"), argument: { typename: null, hasValue: true, value: bytes() } };
  const failing = store.commits.submitStatement(() =>
    store.messages.insert(broken as unknown as NewMessage, Date.now()),
  );
  const fine = store.commits.submitStatement(() => store.messages.insert(message("y"), Date.now()));
  await assert.rejects(failing, /NOT NULL/);
  assert.equal((await fine).target.id, "y");
  assert.deepEqual(
    store.messages.all().map((stored) => stored.target.id),
    ["y"],
  );
});

test("cached state follows writes, deletes, expiry refreshes and expiry, and survives reopening", async (t) => {
  const dir = tempDir(t);
  let store = Store.open(dir);
  const now = Date.now();
  assert.equal(store.state.read(address, now).size, 0, "caches an address with no state");
  await store.commits.submit(() => {
    store.state.put(address, "kept", bytes(1), null);
    store.state.put(address, "short", bytes(2), now + 50);
    store.state.put(address, "gone", bytes(3), null);
  });
  await store.commits.submit(() => store.state.delete(address, "gone"));
  assert.deepEqual([...store.state.read(address, now).keys()].sort(), ["kept", "short"]);
  assert.deepEqual([...store.state.read(address, now + 50).keys()], ["kept"], "expired values are not read");

  await store.commits.submit(() => store.state.touch(address, "short", now + 500, now + 10));
  assert.deepEqual([...store.state.read(address, now + 100).keys()].sort(), ["kept", "short"]);
  await store.commits.submit(() => store.state.touch(address, "short", now + 5000, now + 600));
  assert.deepEqual(
    [...store.state.read(address, now + 600).keys()],
    ["kept"],
    "an expired value stays expired when touched",
  );

  store.close();
  store = Store.open(dir);
  t.after(() => store.close());
  assert.deepEqual(stateBytes(store, "short", now + 100), [2]);
  assert.equal(store.state.read(address, now + 100).has("gone"), false);
  assert.equal(store.state.read(address, now + 600).has("short"), false);
});
