import type Database from "better-sqlite3";
import { CommitQueue } from "./commit-queue.js";
import { DeadLetterTable } from "./dead-letter-table.js";
import { EgressTable } from "./egress-table.js";
import { MessageTable } from "./message-table.js";
import { type Durability, openDatabase } from "./open-database.js";
import { SpecTable } from "./spec-table.js";
import { StateTable } from "./state-table.js";
import { SuspensionTable } from "./suspension-table.js";
import { TimerTable } from "./timer-table.js";

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

  private constructor(private readonly db: Database.Database) {
    this.state = new StateTable(db);
    this.commits = new CommitQueue(db, () => this.state.dropCache());
    this.messages = new MessageTable(db);
    this.specs = new SpecTable(db);
    this.timers = new TimerTable(db);
    this.egress = new EgressTable(db);
    this.suspensions = new SuspensionTable(db);
    this.deadLetters = new DeadLetterTable(db);
  }

  static open(dataDir: string, durability: Durability = "full"): Store {
    return new Store(openDatabase({ dataDir, durability }));
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  /** Commits pending work and closes the file. */
  close(): void {
    if (!this.db.open) return;
    this.commits.close();
    this.db.close();
  }
}

export type { Durability };
