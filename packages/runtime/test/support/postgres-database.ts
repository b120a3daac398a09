import { randomBytes } from "node:crypto";
import type { TestContext } from "node:test";
import pg from "pg";

/**
 * The PostgreSQL server the tests use (`.ci/run` makes sure one answers): trust auth for
 * user postgres on loopback. SWITCHBOARD_TEST_POSTGRES points the tests at another server.
 */
export const POSTGRES_SERVER_URL =
  process.env.SWITCHBOARD_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  /** The database's name, unique to this test file's run. */
  readonly name: string;
  /** A connection URL for it. */
  readonly url: string;
  /** Drops it, ending every connection still open to it; later calls do nothing. */
  drop(): Promise<void>;
}

/**
 * Creates a database with a unique name and drops it when the test `t` ends, so concurrent
 * runs never share data.
 */
export async function createTestDatabase(label: string, t: TestContext): Promise<TestDatabase> {
  // A sweep that fails (no right to read the data directory's files, say) only skips cleaning.
  sweeping ??= dropOrphans().catch(() => {});
  await sweeping;
  const name = `sbtest_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${process.pid}_${randomBytes(4).toString("hex")}`;
  await onServer(`CREATE DATABASE ${name}`);
  let dropped = false;
  const database: TestDatabase = {
    name,
    url: withDatabase(POSTGRES_SERVER_URL, name),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      // FORCE ends the connections a test left open (a killed child's, a pool not closed).
      await onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
  t.after(() => database.drop());
  return database;
}

let sweeping: Promise<void> | undefined;
const ORPHAN_AGE_MINUTES = 10;

/**
 * Drops test databases left by test processes that no longer run on this machine (killed
 * before their `after` hooks ran). The name carries the creating process's pid; only
 * databases older than ten minutes are touched, in case a pid is not visible from here.
 */
export async function dropOrphans(minAgeMinutes = ORPHAN_AGE_MINUTES): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_SERVER_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'sbtest\\_%'
       AND (pg_stat_file('base/' || oid || '/PG_VERSION')).modification < now() - $1 * interval '1 minute'`,
      [minAgeMinutes],
    );
    for (const { datname } of rows) {
      const pid = Number(/_(\d+)_[0-9a-f]{8}$/.exec(datname)?.[1]);
      if (Number.isInteger(pid) && pid > 0 && !processRuns(pid)) {
        await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => {});
      }
    }
  } finally {
    await client.end();
  }
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** `url` with its database path replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function onServer(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_SERVER_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
