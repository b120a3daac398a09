import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { CommitQueue } from "./commit-queue.js";
import { DataDirLock } from "./data-dir-lock.js";
import { DeadLetterTable } from "./dead-letter-table.js";
import { EgressTable } from "./egress-table.js";
import { MessageTable } from "./message-table.js";
import { DATABASE_FILE, openDatabase } from "./open-database.js";
import { SpecTable } from "./spec-table.js";
import { StateTable } from "./state-table.js";
import { SuspensionTable } from "./suspension-table.js";
import { TimerTable } from "./timer-table.js";
import { WalSync } from "./wal-sync.js";

/**
 * "full" makes every group commit durable on disk (fsync) before anything it covers is
 * acknowledged: it survives a power cut. "normal" survives a process crash but may lose the
 * last commits on power loss.
 */
export type Durability = "full" | "normal";

/**
 * The embedded durable store (SQLite in WAL mode). Reads are synchronous; every write goes
 * through `commits.submit(...)`, so writes from many addresses share one group commit.
 */
export class Store {
  readonly commits: CommitQueue;
  readonly messages: MessageTable;
  readonly state: StateTable;
  readonly specs: SpecTable;
  readonly timers: TimerTable;
  readonly egress: EgressTable;
  readonly suspensions: SuspensionTable;
  readonly deadLetters: DeadLetterTable;

  private constructor(
    private readonly db: Database.Database,
    private readonly wal: WalSync | undefined,
    private readonly lock: DataDirLock,
  ) {
    this.state = new StateTable(db);
    this.commits = new CommitQueue(db, () => this.state.dropCache(), wal);
    this.messages = new MessageTable(db);
    this.specs = new SpecTable(db);
    this.timers = new TimerTable(db);
    this.egress = new EgressTable(db);
    this.suspensions = new SuspensionTable(db);
    this.deadLetters = new DeadLetterTable(db);
  }

  /** Opens the store, holding the data directory's lock until close (SB_STORE_DATA_DIR_LOCKED). */
  static open(dataDir: string, durability: Durability = "full"): Store {
    mkdirSync(dataDir, { recursive: true });
    const lock = DataDirLock.acquire(dataDir);
    let db: Database.Database | undefined;
    try {
      db = openDatabase({ dataDir });
      const wal = durability === "full" ? new WalSync(join(dataDir, DATABASE_FILE)) : undefined;
      return new Store(db, wal, lock);
    } catch (error) {
      db?.close();
      lock.release();
      throw error;
    }
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  /** Commits pending work and closes the file. */
  close(): void {
    if (!this.db.open) return;
    this.commits.close();
    this.wal?.close();
    this.db.close();
    this.lock.release();
  }
}
