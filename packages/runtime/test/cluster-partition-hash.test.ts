import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { addressHash, partitionOf } from "../src/cluster/partition-hash.js";
import { createTestDatabase } from "./support/postgres-database.js";

// Fixed forever: a change here means every cluster's rows would be filed under other partitions.
const GOLDEN = [
  ["example/greeter", "alice", 3165950654],
  ["example/greeter", "bob", 3804985114],
  ["ns/fn", "", 306810703],
  ["ns/fn", "ü/😀", 2635907062],
] as const;

test("an address hashes to the same documented number forever", () => {
  for (const [fn, id, hash] of GOLDEN) {
    assert.equal(addressHash(fn, id), hash, `${fn}/${id}`);
    assert.equal(partitionOf(fn, id, 128), hash % 128);
    assert.equal(partitionOf(fn, id, 1), 0);
  }
});

test("the SQL form in the documentation computes the same partitions as the runtime", async (t) => {
  const database = await createTestDatabase("partition_hash", t);
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    for (const [fn, id] of GOLDEN) {
      for (const partitionCount of [7, 128, 65536]) {
        const { rows } = await client.query<{ partition: string }>(
          "SELECT ('x' || left(encode(sha256(convert_to($1::text || '/' || $2::text, 'UTF8')), 'hex'), 8))::bit(32)::bigint % $3 AS partition",
          [fn, id, partitionCount],
        );
        assert.equal(
          Number(rows[0]?.partition),
          partitionOf(fn, id, partitionCount),
          `${fn}/${id} % ${partitionCount}`,
        );
      }
    }
  } finally {
    await client.end();
  }
});

test("addresses spread evenly over the partitions", () => {
  const partitionCount = 128;
  const counts = new Array<number>(partitionCount).fill(0);
  const addresses = 64_000;
  for (let i = 0; i < addresses; i++) {
    const partition = partitionOf("example/counter", `user-${i}`, partitionCount);
    counts[partition] = (counts[partition] ?? 0) + 1;
  }
  const expected = addresses / partitionCount;
  // 500 per partition on average; a binomial's standard deviation here is about 22.
  assert.ok(
    Math.min(...counts) > expected * 0.8,
    `fullest/emptiest: ${Math.max(...counts)}/${Math.min(...counts)}`,
  );
  assert.ok(
    Math.max(...counts) < expected * 1.2,
    `fullest/emptiest: ${Math.max(...counts)}/${Math.min(...counts)}`,
  );
});
