import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import pg from "pg";
import { Ownership } from "../src/cluster/ownership.js";
import { partitionOf } from "../src/cluster/partition-hash.js";
import { SwitchboardError } from "../src/errors/switchboard-error.js";
import { type ImportOptions, importSqliteStore } from "../src/store/import/import-sqlite-store.js";
import { importedEgressPartition } from "../src/store/import/table-copies.js";
import { DATABASE_FILE } from "../src/store/open-database.js";
import {
  type OpenedPostgresBackend,
  openPostgresBackend,
} from "../src/store/postgres/open-postgres-backend.js";
import { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { SqliteBackend } from "../src/store/sqlite-backend.js";
import { openSqlite } from "../src/store/sqlite-driver.js";
import { Store } from "../src/store/store.js";
import {
  ALL_ADDRESSES,
  EGRESS_ID,
  EGRESS_TOPIC,
  QUEUED,
  STATEFUL,
  writeNodeStore,
} from "./support/node-store-fixture.js";
import { createTestDatabase } from "./support/postgres-database.js";
import { snapshotBackend } from "./support/store-snapshot.js";
import { tempDir } from "./support/temp-dir.js";

const bytes = (text: string) => new TextEncoder().encode(text);

/**
 * Closes what a test opens on its database before the database is dropped: created before
 * createTestDatabase, its hook runs before the drop's (after hooks run in the order registered).
 */
function closers(t: TestContext): (close: () => Promise<void>) => void {
  const pending: (() => Promise<void>)[] = [];
  t.after(async () => {
    for (const close of pending.reverse()) await close();
  });
  return (close) => pending.push(close);
}

/** The cluster's backend on `url`, alone in its cluster (owning every partition). */
async function clusterBackend(
  url: string,
  closeLater: (close: () => Promise<void>) => void,
): Promise<OpenedPostgresBackend> {
  const opened = await openPostgresBackend({
    url,
    maxConnections: 4,
    ownership: { manualTicks: true, leaseMs: 60_000 },
  });
  closeLater(() => opened.close());
  return opened;
}

async function sqliteSnapshot(dataDir: string, now: number): Promise<unknown> {
  const backend = new SqliteBackend(Store.open(dataDir, "normal"));
  try {
    return await snapshotBackend(backend, ALL_ADDRESSES, [EGRESS_ID], now);
  } finally {
    await backend.close();
  }
}

/** The import's refusal, checked to be a SwitchboardError with `code`. */
async function refusal(options: ImportOptions, code: string): Promise<SwitchboardError> {
  const error = await importSqliteStore(options).then(
    () => assert.fail("the import went through"),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof SwitchboardError, String(error));
  assert.equal(error.code, code, error.message);
  return error;
}

async function onDatabase(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Every row of the cluster's data tables and their identities' positions, for "nothing changed". */
async function fingerprint(url: string): Promise<string> {
  const store = await PostgresStore.open({ url, maxConnections: 1 });
  try {
    const parts: unknown[] = [];
    for (const table of ["messages", "state", "specs", "timers", "egress", "suspensions", "dead_letters"]) {
      const { rows } = await store.pool.query(`SELECT * FROM ${table} ORDER BY 1, 2, 3`);
      parts.push(table, rows);
    }
    const { rows } = await store.pool.query(
      "SELECT sequencename, last_value FROM pg_sequences ORDER BY sequencename",
    );
    parts.push(rows);
    return JSON.stringify(parts);
  } finally {
    await store.close();
  }
}

test("a node's store reads back the same from the cluster after an import, page boundaries and all", async (t) => {
  const dataDir = join(tempDir(t), "data");
  const now = Date.now();
  await writeNodeStore(dataDir, now);
  const before = await sqliteSnapshot(dataDir, now);
  const closeLater = closers(t);
  const database = await createTestDatabase("import_roundtrip", t);

  // Pages of 3 rows (and tiny byte bounds) put page boundaries inside every table.
  const summary = await importSqliteStore({
    dataDir,
    url: database.url,
    partitions: 8,
    pageLimits: { rows: 3, bytes: 40 },
  });
  assert.equal(summary.partitionCount, 8);
  assert.deepEqual(Object.fromEntries(summary.tables.map((table) => [table.table, table.rows])), {
    specs: 2,
    state: 2,
    messages: 13,
    timers: 2,
    egress: 2,
    suspensions: 1,
    dead_letters: 2,
  });

  const { backend, ownership } = await clusterBackend(database.url, closeLater);
  assert.equal(ownership.owned().length, 8, "alone in the cluster, it owns every partition");
  const after = await snapshotBackend(backend, ALL_ADDRESSES, [EGRESS_ID], now);
  assert.deepEqual(after, before);

  // Rows are filed where the cluster's owners look for them.
  const store = await PostgresStore.open({ url: database.url, maxConnections: 1 });
  closeLater(() => store.close());
  const misfiled = await store.pool.query(
    `SELECT 'messages' AS t, partition, fn, id FROM messages
     UNION ALL SELECT 'state', partition, fn, id FROM state
     UNION ALL SELECT 'timers', partition, sender_fn, sender_id FROM timers
     UNION ALL SELECT 'suspensions', partition, fn, id FROM suspensions
     UNION ALL SELECT 'dead_letters', partition, fn, id FROM dead_letters`,
  );
  for (const row of misfiled.rows as { t: string; partition: number; fn: string; id: string }[]) {
    assert.equal(row.partition, partitionOf(row.fn, row.id, 8), `${row.t} ${row.fn}/${row.id}`);
  }
  const egressRows = await store.pool.query<{ partition: number }>("SELECT partition FROM egress");
  for (const row of egressRows.rows) assert.equal(row.partition, importedEgressPartition(EGRESS_ID, 8));

  // New rows continue past the highest seq the node ever gave, including rows already gone
  // (the consumed first message, the delivered first egress record).
  const node = openSqlite(join(dataDir, DATABASE_FILE), { readonly: true });
  const highWater = Object.fromEntries(
    (node.prepare("SELECT name, seq FROM sqlite_sequence").all() as { name: string; seq: number }[]).map(
      (row) => [row.name, row.seq],
    ),
  );
  node.close();
  const accepted = await backend.messages.accept(
    { target: QUEUED[0] ?? STATEFUL, argument: { typename: "t", hasValue: true, value: bytes("new") } },
    now,
  );
  assert.equal(accepted.seq, (highWater.messages as number) + 1);
  const head = await backend.messages.head(QUEUED[0] ?? STATEFUL, 1000);
  assert.equal(head.at(-1)?.seq, accepted.seq, "a new message queues behind the imported ones");
  await backend.applyResult({
    address: STATEFUL,
    plan: {
      outgoing: [],
      delayed: [],
      egress: [{ egress: EGRESS_ID, topic: EGRESS_TOPIC, typename: "t", value: bytes("new") }],
      mutations: [],
    },
    consumed: [],
    specs: [],
    clearSuspension: false,
    now,
  });
  const pending = await backend.egress.pending(EGRESS_ID, 0, 100);
  assert.equal(pending.at(-1)?.seq, (highWater.egress as number) + 1);
  const popped = await backend.egress.pop(EGRESS_ID, EGRESS_TOPIC);
  assert.equal(new TextDecoder().decode(popped?.value), "pending-1", "the oldest imported record pops first");
});

test("a second import is refused and changes nothing", async (t) => {
  const dataDir = join(tempDir(t), "data");
  await writeNodeStore(dataDir);
  const database = await createTestDatabase("import_twice", t);
  await importSqliteStore({ dataDir, url: database.url, partitions: 4 });
  const imported = await fingerprint(database.url);

  const error = await refusal({ dataDir, url: database.url }, "SB_STORE_IMPORT_TARGET_NOT_EMPTY");
  assert.match(
    error.message,
    /cannot take an import: it holds messages, state, timers, egress, dead letters, suspensions/,
  );
  assert.match(error.message, /nothing was changed/);
  assert.equal(await fingerprint(database.url), imported);
  // The data directory is free again: the node (or another import) can open it.
  Store.open(dataDir, "normal").close();
});

test("an import is refused while an instance runs on the cluster", async (t) => {
  const dataDir = join(tempDir(t), "data");
  await writeNodeStore(dataDir);
  let ownership: Ownership | undefined;
  let store: PostgresStore | undefined;
  t.after(async () => {
    await ownership?.stop();
    await store?.close();
  });
  const database = await createTestDatabase("import_running", t);
  store = await PostgresStore.open({ url: database.url, partitions: 4, maxConnections: 2 });
  ownership = await Ownership.start({
    pool: store.pool,
    partitionCount: 4,
    instanceId: "instance-a",
    manualTicks: true,
    leaseMs: 60_000,
  });
  const empty = await fingerprint(database.url);

  const error = await refusal({ dataDir, url: database.url }, "SB_STORE_IMPORT_TARGET_NOT_EMPTY");
  assert.match(error.message, /instances instance-a ran on it within the last lease \(4 partitions leased\)/);
  assert.deepEqual(error.details.liveMembers, ["instance-a"]);
  assert.equal(await fingerprint(database.url), empty);

  // Once it stopped (partitions handed over, member row gone), the import goes through.
  await ownership.stop();
  ownership = undefined;
  const summary = await importSqliteStore({ dataDir, url: database.url });
  assert.equal(summary.tables.find((table) => table.table === "messages")?.rows, 13);
});

test("an import is refused where the cluster already handed out the egress ids it would bring", async (t) => {
  const dataDir = join(tempDir(t), "data");
  await writeNodeStore(dataDir);
  const database = await createTestDatabase("import_egress_ids", t);
  const store = await PostgresStore.open({ url: database.url, partitions: 4, maxConnections: 1 });
  try {
    // A trial run delivered three records: the rows are gone, their ids were handed out.
    await store.pool.query(
      `INSERT INTO egress (partition, egress, typename, value, created_at)
       SELECT 0, 'shop/out', 't', ''::bytea, 0 FROM generate_series(1, 3)`,
    );
    await store.pool.query("DELETE FROM egress");
  } finally {
    await store.close();
  }
  const error = await refusal({ dataDir, url: database.url }, "SB_STORE_IMPORT_TARGET_NOT_EMPTY");
  assert.match(error.message, /handed out egress ids up to 3, which imported records would repeat/);
});

test("an import is refused while a runtime holds the data directory", async (t) => {
  const dataDir = join(tempDir(t), "data");
  await writeNodeStore(dataDir);
  const database = await createTestDatabase("import_locked", t);
  const running = Store.open(dataDir, "normal");
  t.after(() => running.close());

  const error = await refusal({ dataDir, url: database.url }, "SB_STORE_DATA_DIR_LOCKED");
  assert.match(error.message, new RegExp(`in use by pid ${process.pid} on `));
  assert.match(error.message, /stop that runtime first: a copy of a store that is running is not consistent/);
  // Refused before the cluster's database was touched: not even a schema.
  const { rows } = await onDatabase(database.url, "SELECT to_regclass('messages') IS NULL AS untouched");
  assert.equal(rows[0]?.untouched, true);
});

test("an import is refused for a data directory without a store and for a bad URL", async (t) => {
  const dir = tempDir(t);
  const database = await createTestDatabase("import_bad_input", t);
  const noStore = await refusal({ dataDir: dir, url: database.url }, "SB_STORE_IMPORT_BAD_SOURCE");
  assert.match(noStore.message, /holds no Switchboard store \(no switchboard\.db\)/);
  await refusal({ dataDir: join(dir, "missing"), url: database.url }, "SB_STORE_IMPORT_BAD_SOURCE");

  const dataDir = join(dir, "data");
  await writeNodeStore(dataDir);
  const badUrl = await refusal({ dataDir, url: "mysql://root@db/x" }, "SB_STORE_BAD_URL");
  assert.match(badUrl.message, /expected postgres or postgresql/);
  // Nothing locked or left behind: the node can start on it.
  Store.open(dataDir, "normal").close();
});

test("an import that fails half-way writes nothing, so it can simply run again", async (t) => {
  const dataDir = join(tempDir(t), "data");
  await writeNodeStore(dataDir);
  // PostgreSQL's text cannot hold a NUL character; SQLite's can. Timers are copied after
  // messages, so the failure comes with messages already inserted in the transaction.
  const node = openSqlite(join(dataDir, DATABASE_FILE));
  node.prepare("UPDATE timers SET token = ? WHERE token IS NOT NULL").run("bad\u0000token");
  node.close();
  const database = await createTestDatabase("import_atomic", t);
  await PostgresStore.open({ url: database.url, partitions: 4, maxConnections: 1 }).then((store) =>
    store.close(),
  );
  const empty = await fingerprint(database.url);

  const error = await refusal(
    { dataDir, url: database.url, pageLimits: { rows: 2, bytes: 1 << 20 } },
    "SB_STORE_FAILED",
  );
  assert.match(error.message, /0x00/);
  assert.equal(await fingerprint(database.url), empty, "no row and no identity moved");

  // A value that is not bytes (SQLite keeps whatever it is given) stops the import as well.
  const edited = openSqlite(join(dataDir, DATABASE_FILE));
  edited.prepare("UPDATE timers SET token = 'good-token' WHERE token IS NOT NULL").run();
  edited.prepare("UPDATE egress SET value = 12").run();
  edited.close();
  const notBytes = await refusal({ dataDir, url: database.url }, "SB_STORE_IMPORT_BAD_SOURCE");
  assert.match(notBytes.message, /a value of egress\.value in the node's store is a number, not bytes/);
  assert.equal(await fingerprint(database.url), empty);

  const fixed = openSqlite(join(dataDir, DATABASE_FILE));
  fixed.prepare("UPDATE egress SET value = X'6f6b'").run();
  fixed.close();
  const summary = await importSqliteStore({ dataDir, url: database.url });
  assert.equal(summary.tables.find((table) => table.table === "timers")?.rows, 2);
});

test("a node killed with SIGKILL imports everything it acknowledged, in order", async (t) => {
  const dataDir = join(tempDir(t), "data");
  const script = new URL("./support/crash-after-writing.ts", import.meta.url).pathname;
  const crashed = spawnSync(
    process.execPath,
    ["--conditions=development", "--import", "tsx", script, dataDir, "300"],
    {
      timeout: 60_000,
    },
  );
  assert.equal(crashed.signal, "SIGKILL", crashed.stderr.toString());
  const database = await createTestDatabase("import_crashed", t);

  const summary = await importSqliteStore({ dataDir, url: database.url, partitions: 4 });
  assert.equal(summary.tables.find((table) => table.table === "messages")?.rows, 300);
  const { rows } = await onDatabase(
    database.url,
    "SELECT count(*) FILTER (WHERE accepted_at <> seq - 1 OR id <> 'k' || ((seq - 1) % 7))::integer AS misplaced FROM messages",
  );
  assert.equal(rows[0]?.misplaced, 0);
});
