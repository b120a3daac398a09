import assert from "node:assert/strict";
import { test } from "node:test";
import { IdTable } from "../src/host/id-table.js";

test("an id table finds, counts and forgets values by id", () => {
  const table = new IdTable<string>();
  table.set(7, "seven");
  table.set(1_000_000_123, "large");
  table.set(7, "seven again");
  assert.equal(table.size, 2);
  assert.equal(table.get(7), "seven again");
  assert.equal(table.get(1_000_000_123), "large");
  assert.equal(table.get(8), undefined);
  assert.equal(table.delete(7), true);
  assert.equal(table.delete(7), false);
  assert.equal(table.size, 1);
  assert.equal(table.get(7), undefined);
});

test("an id table's values can be walked while they are removed", () => {
  const table = new IdTable<number>();
  for (let id = 1; id <= 5; id++) table.set(id, id * 10);
  for (const value of table.values()) table.delete(value / 10);
  assert.equal(table.size, 0);
  assert.deepEqual(table.values(), []);
});
