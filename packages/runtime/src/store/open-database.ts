import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { SCHEMA_SQL, SCHEMA_VERSION } from "./schema.js";
import { openSqlite, type SqliteDatabase } from "./sqlite-driver.js";

export type Durability = "full" | "normal";

export interface OpenDatabaseOptions {
  /** Directory holding switchboard.db (created when missing). */
  readonly dataDir: string;
}

export const DATABASE_FILE = "switchboard.db";

/**
 * Opens (creating when missing) the store's database. SQLite itself never fsyncs at commit
 * (`synchronous=NORMAL`): under "full" durability the store fsyncs the WAL off the event
 * loop before acknowledging a commit (see WalSync), which is the guarantee FULL would give.
 */
export function openDatabase(options: OpenDatabaseOptions): SqliteDatabase {
  mkdirSync(options.dataDir, { recursive: true });
  const db = openSqlite(join(options.dataDir, DATABASE_FILE));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = OFF");
  db.pragma("busy_timeout = 5000");
  db.exec(SCHEMA_SQL);
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
    | { value: string }
    | undefined;
  if (!row) {
    db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
  } else if (Number(row.value) !== SCHEMA_VERSION) {
    db.close();
    throw new Error(
      `store at ${options.dataDir} has schema version ${row.value}; this Switchboard reads version ${SCHEMA_VERSION}`,
    );
  }
  return db;
}
