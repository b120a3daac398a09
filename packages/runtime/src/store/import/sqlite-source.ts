import { existsSync } from "node:fs";
import { join } from "node:path";
import { StoreErrors } from "../../errors/store-errors.js";
import { SwitchboardError } from "../../errors/switchboard-error.js";
import { DataDirLock } from "../data-dir-lock.js";
import { DATABASE_FILE } from "../open-database.js";
import { SCHEMA_VERSION } from "../schema.js";
import { openSqlite, type SqliteDatabase } from "../sqlite-driver.js";

/**
 * A single node's embedded store opened for copying out: its data directory locked for the
 * whole copy (so no runtime can start on it meanwhile) and its database opened read-only
 * (nothing is created, migrated or written, not even a missing file).
 */
export class SqliteSource {
  private constructor(
    readonly dataDir: string,
    readonly db: SqliteDatabase,
    private readonly lock: DataDirLock,
  ) {}

  /**
   * SB_STORE_IMPORT_BAD_SOURCE when the directory holds no store of this Switchboard's schema;
   * SB_STORE_DATA_DIR_LOCKED while a runtime runs on it.
   */
  static open(dataDir: string): SqliteSource {
    const file = join(dataDir, DATABASE_FILE);
    if (!existsSync(file)) {
      throw new SwitchboardError(
        StoreErrors.IMPORT_BAD_SOURCE,
        `${dataDir} holds no Switchboard store (no ${DATABASE_FILE}); pass the --data-dir the node ran with`,
        { dataDir },
      );
    }
    const lock = lockForCopy(dataDir);
    let db: SqliteDatabase | undefined;
    try {
      db = openSqlite(file, { readonly: true, fileMustExist: true });
      checkSchemaVersion(db, dataDir);
      return new SqliteSource(dataDir, db, lock);
    } catch (error) {
      db?.close();
      lock.release();
      throw error;
    }
  }

  /**
   * The highest seq SQLite ever gave a row of `table` (AUTOINCREMENT never reuses one, even
   * after the row is gone); 0 when it gave none.
   */
  highWater(table: string): number {
    const hasSequences = this.db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'")
      .get();
    const recorded = hasSequences
      ? (this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = ?").get(table) as
          | { seq: number }
          | undefined)
      : undefined;
    const present = this.db.prepare(`SELECT max(seq) AS seq FROM ${table}`).get() as { seq: number | null };
    return Math.max(recorded?.seq ?? 0, present.seq ?? 0);
  }

  /** The lowest seq a row of `table` has now; undefined when the table is empty. */
  lowestSeq(table: string): number | undefined {
    const row = this.db.prepare(`SELECT min(seq) AS seq FROM ${table}`).get() as { seq: number | null };
    return row.seq ?? undefined;
  }

  close(): void {
    if (this.db.open) this.db.close();
    this.lock.release();
  }
}

/** The data directory's lock, refused with a reason that fits a copy while a runtime holds it. */
function lockForCopy(dataDir: string): DataDirLock {
  try {
    return DataDirLock.acquire(dataDir);
  } catch (error) {
    if (!(error instanceof SwitchboardError) || error.code !== StoreErrors.DATA_DIR_LOCKED.code) throw error;
    const { pid, host } = error.details as { pid?: number; host?: string };
    throw new SwitchboardError(
      StoreErrors.DATA_DIR_LOCKED,
      `the data directory ${dataDir} is in use by ${pid !== undefined ? `pid ${pid} on ${host}` : "another process"}; ` +
        "stop that runtime first: a copy of a store that is running is not consistent " +
        "(messages it accepts or consumes during the copy would be lost or applied twice); nothing was changed",
      error.details,
    );
  }
}

function checkSchemaVersion(db: SqliteDatabase, dataDir: string): void {
  let version: string | undefined;
  try {
    version = (
      db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined
    )?.value;
  } catch {
    // No meta table: not a Switchboard store (or a file the node never finished creating).
  }
  if (Number(version) !== SCHEMA_VERSION) {
    throw new SwitchboardError(
      StoreErrors.IMPORT_BAD_SOURCE,
      version === undefined
        ? `${join(dataDir, DATABASE_FILE)} is not a Switchboard store (it has no schema version)`
        : `the store in ${dataDir} has schema version ${version}; this Switchboard imports version ${SCHEMA_VERSION}`,
      { dataDir, ...(version !== undefined ? { schemaVersion: version } : {}) },
    );
  }
}
