import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { SCHEMA_SQL, SCHEMA_VERSION } from "./schema.js";

export type Durability = "full" | "normal";

export interface OpenDatabaseOptions {
  /** Directory holding switchboard.db (created when missing). */
  readonly dataDir: string;
  /**
   * "full" fsyncs every group commit before anything it covers is acknowledged (survives a
   * power cut); "normal" survives a process crash but may lose the last commits on power loss.
   */
  readonly durability?: Durability;
}

export function openDatabase(options: OpenDatabaseOptions): Database.Database {
  mkdirSync(options.dataDir, { recursive: true });
  const db = new Database(join(options.dataDir, "switchboard.db"));
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${options.durability === "normal" ? "NORMAL" : "FULL"}`);
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
