import type Database from "better-sqlite3";
import type { NewEgressRecord, StoredEgressRecord } from "./records.js";

interface EgressRow {
  seq: number;
  egress: string;
  topic: string | null;
  typename: string;
  value: Uint8Array | null;
  created_at: number;
  attempts: number;
}

/** The egress outbox: records stay here until delivered or consumed. */
export class EgressTable {
  private readonly insertStatement: Database.Statement;
  private readonly deleteStatement: Database.Statement;
  private readonly oldestStatement: Database.Statement<[string, string], EgressRow>;
  private readonly pendingStatement: Database.Statement<[string, number, number], EgressRow>;
  private readonly attemptStatement: Database.Statement;
  private readonly countStatement: Database.Statement<[], { n: number }>;

  constructor(db: Database.Database) {
    this.insertStatement = db.prepare(
      "INSERT INTO egress (egress, topic, typename, value, created_at) VALUES (?, ?, ?, ?, ?)",
    );
    this.deleteStatement = db.prepare("DELETE FROM egress WHERE seq = ?");
    this.oldestStatement = db.prepare(
      "SELECT * FROM egress WHERE egress = ? AND topic = ? ORDER BY seq LIMIT 1",
    );
    this.pendingStatement = db.prepare(
      "SELECT * FROM egress WHERE egress = ? AND seq > ? ORDER BY seq LIMIT ?",
    );
    this.attemptStatement = db.prepare("UPDATE egress SET attempts = attempts + 1 WHERE seq = ?");
    this.countStatement = db.prepare("SELECT count(*) AS n FROM egress");
  }

  /** Must run inside a commit unit. */
  insert(record: NewEgressRecord, now: number): number {
    const info = this.insertStatement.run(
      record.egress,
      record.topic ?? null,
      record.typename,
      record.value,
      now,
    );
    return Number(info.lastInsertRowid);
  }

  /** Must run inside a commit unit. */
  delete(seq: number): void {
    this.deleteStatement.run(seq);
  }

  oldest(egress: string, topic: string): StoredEgressRecord | undefined {
    const row = this.oldestStatement.get(egress, topic);
    return row ? toRecord(row) : undefined;
  }

  /** Records of one egress after `afterSeq`, oldest first. */
  pending(egress: string, afterSeq: number, limit: number): StoredEgressRecord[] {
    return this.pendingStatement.all(egress, afterSeq, limit).map(toRecord);
  }

  recordAttempt(seq: number): void {
    this.attemptStatement.run(seq);
  }

  count(): number {
    return this.countStatement.get()?.n ?? 0;
  }
}

function toRecord(row: EgressRow): StoredEgressRecord {
  return {
    seq: row.seq,
    egress: row.egress,
    ...(row.topic !== null ? { topic: row.topic } : {}),
    typename: row.typename,
    value: row.value ?? new Uint8Array(0),
    createdAt: row.created_at,
    attempts: row.attempts,
  };
}
