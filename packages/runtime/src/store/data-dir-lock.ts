import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { StoreErrors } from "../errors/store-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { openSqlite, type SqliteDatabase } from "./sqlite-driver.js";

export const LOCK_FILE = "switchboard.lock";
/** Who holds the lock, for the refusal message only; the lock itself is the OS lock on LOCK_FILE. */
export const LOCK_OWNER_FILE = "switchboard.lock.owner";

/**
 * One store per data directory. Two runtimes on one directory would both recover the same
 * in-flight messages and apply every effect twice.
 *
 * The lock is SQLite's exclusive lock on a file of its own (an OS file lock underneath):
 * the kernel drops it when the process dies, even by kill -9, so there is no stale lock to
 * detect and a reused pid cannot keep it alive. SQLite also refuses a second connection in
 * the same process, so a store opened twice in one process is refused too.
 */
export class DataDirLock {
  private constructor(
    private readonly db: SqliteDatabase,
    private readonly ownerFile: string,
  ) {}

  /** Takes the lock or throws SB_STORE_DATA_DIR_LOCKED naming the holder. */
  static acquire(dataDir: string): DataDirLock {
    const ownerFile = join(dataDir, LOCK_OWNER_FILE);
    // timeout 0: refuse at once instead of waiting for the holder.
    const db = openSqlite(join(dataDir, LOCK_FILE), { timeout: 0 });
    try {
      db.pragma("locking_mode = EXCLUSIVE");
      db.exec("BEGIN EXCLUSIVE");
    } catch (error) {
      db.close();
      if ((error as { code?: string }).code !== "SQLITE_BUSY") throw error;
      const owner = readOwner(ownerFile);
      throw new SwitchboardError(
        StoreErrors.DATA_DIR_LOCKED,
        `the data directory ${dataDir} is in use by ${owner ? `pid ${owner.pid} on ${owner.host}` : "another process"}; ` +
          "stop that runtime first or give this one another --data-dir",
        { dataDir, ...(owner ? { pid: owner.pid, host: owner.host } : {}) },
      );
    }
    writeFileSync(ownerFile, `${JSON.stringify({ pid: process.pid, host: hostname() })}\n`);
    return new DataDirLock(db, ownerFile);
  }

  get held(): boolean {
    return this.db.open;
  }

  release(): void {
    if (!this.db.open) return;
    // The owner file goes first: once the lock is free a new holder may write its own.
    if (readOwner(this.ownerFile)?.pid === process.pid) rmSync(this.ownerFile, { force: true });
    this.db.close();
  }
}

function readOwner(file: string): { pid: number; host: string } | undefined {
  try {
    const owner = JSON.parse(readFileSync(file, "utf8")) as { pid?: unknown; host?: unknown };
    return typeof owner.pid === "number" ? { pid: owner.pid, host: String(owner.host) } : undefined;
  } catch {
    return undefined;
  }
}
