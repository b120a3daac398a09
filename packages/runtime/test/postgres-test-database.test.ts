import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import pg from "pg";
import { createTestDatabase, dropOrphans, POSTGRES_SERVER_URL } from "./support/postgres-database.js";

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_SERVER_URL });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    return rowCount === 1;
  } finally {
    await client.end();
  }
}

test("a test database has a name of its own and is gone after drop, open connections included", async (t) => {
  const first = await createTestDatabase("helper", t);
  const second = await createTestDatabase("helper", t);
  assert.notEqual(first.name, second.name);
  assert.ok(await databaseExists(first.name));

  const leftover = new pg.Client({ connectionString: first.url });
  leftover.on("error", () => {});
  await leftover.connect();
  const { rows } = await leftover.query("SELECT current_database() AS name");
  assert.equal(rows[0].name, first.name);

  await first.drop();
  assert.equal(await databaseExists(first.name), false);
  await assert.rejects(leftover.query("SELECT 1"));
  await first.drop();
  await second.drop();
  assert.equal(await databaseExists(second.name), false);
});

test("databases left by a test process that no longer runs are dropped; a running one's are kept", async (t) => {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  const [code] = await once(child, "exit");
  assert.equal(code, 0);
  const orphan = `sbtest_orphan_${child.pid}_0123abcd`;
  const mine = await createTestDatabase("kept", t);
  const admin = new pg.Client({ connectionString: POSTGRES_SERVER_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${orphan}`);
    await dropOrphans(0);
    assert.equal(await databaseExists(orphan), false);
    assert.equal(await databaseExists(mine.name), true);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${orphan}`);
    await admin.end();
  }
});
