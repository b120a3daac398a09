import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { SwitchboardError } from "../src/errors/index.js";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "../src/store/postgres/migrations.js";
import { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { parseStoreUrl } from "../src/store/postgres/store-url.js";
import { createTestDatabase, POSTGRES_SERVER_URL, withDatabase } from "./support/postgres-database.js";
import { freePort } from "./support/redis-process.js";

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<SwitchboardError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SwitchboardError, `expected a SwitchboardError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

async function query<T extends pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

test("a store URL that is not a postgres URL is refused by name, its password hidden", () => {
  const cases = [
    ["not a url at all", /is not a URL/],
    ["mysql://u:hunter2@db/x", /scheme mysql/],
    ["postgres://u:hunter2@db", /must name one database/],
    ["postgres://u:hunter2@db/a/b", /must name one database/],
    ["postgres://u:hunter2@:5432/x", /is not a URL|names no host/],
    ["postgres://u:hunter2@db:0/x", /port outside/],
  ] as const;
  for (const [raw, problem] of cases) {
    assert.throws(
      () => parseStoreUrl(raw),
      (error: unknown) => {
        assert.ok(error instanceof SwitchboardError);
        assert.equal(error.code, "SB_STORE_BAD_URL");
        assert.match(error.message, problem);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      },
      raw,
    );
  }
  assert.throws(() => parseStoreUrl("postgres://u:hunter2@/x:y"), /SB_STORE|store URL/);
  const good = parseStoreUrl("postgresql://app:hunter2@db.internal:6543/switchboard?sslmode=require");
  assert.equal(good.host, "db.internal");
  assert.equal(good.port, 6543);
  assert.equal(good.database, "switchboard");
  assert.equal(good.user, "app");
  assert.doesNotMatch(good.redacted, /hunter2/);
  assert.match(good.redacted, /app:\*\*\*@db\.internal:6543\/switchboard/);
});

test("an unreachable server, an unknown role and a missing database each get their own error", async () => {
  const port = await freePort();
  const unreachable = await rejectsWith(
    PostgresStore.open({ url: `postgres://postgres:hunter2@127.0.0.1:${port}/x`, connectTimeoutMs: 2000 }),
    "SB_STORE_UNREACHABLE",
  );
  assert.doesNotMatch(unreachable.message, /hunter2/);
  assert.match(unreachable.message, /cannot be reached/);

  const server = new URL(POSTGRES_SERVER_URL);
  server.username = "no_such_role_sb";
  server.password = "hunter2";
  const auth = await rejectsWith(PostgresStore.open({ url: server.toString() }), "SB_STORE_AUTH_FAILED");
  assert.doesNotMatch(auth.message, /hunter2/);
  assert.doesNotMatch(auth.stack ?? "", /hunter2/);

  const missing = await rejectsWith(
    PostgresStore.open({ url: withDatabase(POSTGRES_SERVER_URL, "sb_no_such_database_here") }),
    "SB_STORE_NO_DATABASE",
  );
  assert.match(missing.message, /does not exist/);
});

test("opening an empty database creates the schema and a 128-partition cluster, and opening again changes nothing", async (t) => {
  const database = await createTestDatabase("store_open", t);
  const first = await PostgresStore.open({ url: database.url });
  assert.deepEqual(first.migration, { from: 0, to: LATEST_SCHEMA_VERSION });
  assert.equal(first.partitionCount, 128);
  await first.close();

  const second = await PostgresStore.open({ url: database.url });
  assert.deepEqual(second.migration, { from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION });
  assert.equal(second.partitionCount, 128);
  await second.close();

  const versions = await query<{ version: number }>(
    database.url,
    "SELECT version FROM schema_migrations ORDER BY 1",
  );
  assert.deepEqual(
    versions.map((row) => row.version),
    MIGRATIONS.map((migration) => migration.version),
  );
  const partitions = await query<{ count: string; epochs: string }>(
    database.url,
    "SELECT count(*) AS count, sum(epoch) AS epochs FROM partitions WHERE owner IS NULL",
  );
  assert.deepEqual(partitions[0], { count: "128", epochs: "0" });
});

test("instances opening a fresh database at once agree on one schema and one cluster", async (t) => {
  const database = await createTestDatabase("store_race", t);
  const stores = await Promise.all(
    [1, 2, 3].map(() => PostgresStore.open({ url: database.url, partitions: 16 })),
  );
  assert.deepEqual(
    stores.map((store) => store.partitionCount),
    [16, 16, 16],
  );
  assert.equal(stores.filter((store) => store.migration.from === 0).length, 1);
  await Promise.all(stores.map((store) => store.close()));
  const [meta] = await query<{ rows: string }>(database.url, "SELECT count(*) AS rows FROM cluster_meta");
  assert.equal(meta?.rows, "1");
  const [partitions] = await query<{ rows: string }>(database.url, "SELECT count(*) AS rows FROM partitions");
  assert.equal(partitions?.rows, "16");
});

test("a cluster keeps the partition count it was created with and refuses an instance with another", async (t) => {
  const database = await createTestDatabase("store_partitions", t);
  await (await PostgresStore.open({ url: database.url, partitions: 16 })).close();
  const mismatch = await rejectsWith(
    PostgresStore.open({ url: database.url, partitions: 32 }),
    "SB_CLUSTER_PARTITION_MISMATCH",
  );
  assert.match(mismatch.message, /has 16 partitions, this instance was started with 32/);
  const adopted = await PostgresStore.open({ url: database.url });
  assert.equal(adopted.partitionCount, 16);
  await adopted.close();
  for (const bad of [0, -1, 1.5, 70000, Number.NaN]) {
    await rejectsWith(
      PostgresStore.open({ url: database.url, partitions: bad }),
      "SB_CLUSTER_BAD_PARTITION_COUNT",
    );
  }
});

test("a database with a newer schema is refused and left as it was", async (t) => {
  const database = await createTestDatabase("store_newer", t);
  await (await PostgresStore.open({ url: database.url })).close();
  const future = LATEST_SCHEMA_VERSION + 1;
  await query(
    database.url,
    "INSERT INTO schema_migrations (version, description) VALUES ($1, 'from the future')",
    [future],
  );
  const error = await rejectsWith(PostgresStore.open({ url: database.url }), "SB_STORE_SCHEMA_TOO_NEW");
  assert.match(
    error.message,
    new RegExp(`version ${future}, newer than this Switchboard's ${LATEST_SCHEMA_VERSION}`),
  );
  const versions = await query<{ version: number }>(
    database.url,
    "SELECT version FROM schema_migrations ORDER BY 1",
  );
  assert.deepEqual(
    versions.map((row) => row.version),
    [...MIGRATIONS.map((migration) => migration.version), future],
  );
});

test("every table whose rows belong to an address has a partition column, as the SQLite store's tables plus it", async (t) => {
  const database = await createTestDatabase("store_tables", t);
  await (await PostgresStore.open({ url: database.url })).close();
  const columns = await query<{ table_name: string; column_name: string }>(
    database.url,
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'",
  );
  const tableColumns = (table: string) =>
    new Set(columns.filter((row) => row.table_name === table).map((row) => row.column_name));
  for (const table of ["messages", "state", "timers", "egress", "suspensions", "dead_letters"]) {
    assert.ok(tableColumns(table).has("partition"), `${table} has no partition column`);
  }
  assert.equal(tableColumns("specs").has("partition"), false);
  for (const column of [
    "seq",
    "fn",
    "id",
    "caller_fn",
    "caller_id",
    "typename",
    "has_value",
    "value",
    "accepted_at",
  ]) {
    assert.ok(tableColumns("messages").has(column), `messages.${column}`);
  }
  for (const table of ["cluster_meta", "members", "partitions"])
    assert.ok(tableColumns(table).size > 0, table);
});
