import type Database from "better-sqlite3";
import { type MessageRow, toMessage } from "./message-table.js";
import type { AddressRef, DeadLetter, StoredMessage } from "./records.js";

/** A message row (`seq` is the dead letter's own) plus what took it out of dispatch. */
interface DeadLetterRow extends MessageRow {
  original_seq: number;
  error_code: string;
  error_message: string;
  dead_lettered_at: number;
}

export type { DeadLetter } from "./records.js";

/** The dead-letter store: durable, listable, and emptied only by re-injecting or dropping. */
export class DeadLetterTable {
  private readonly insertStatement: Database.Statement;
  private readonly deleteStatement: Database.Statement;
  private readonly getStatement: Database.Statement<[number], DeadLetterRow>;
  private readonly listStatement: Database.Statement<[number, number], DeadLetterRow>;
  private readonly byAddressStatement: Database.Statement<[string, string, number, number], DeadLetterRow>;
  private readonly countStatement: Database.Statement<[], { n: number }>;

  constructor(db: Database.Database) {
    this.insertStatement = db.prepare(
      `INSERT INTO dead_letters (fn, id, caller_fn, caller_id, typename, has_value, value, accepted_at,
         original_seq, error_code, error_message, dead_lettered_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.deleteStatement = db.prepare("DELETE FROM dead_letters WHERE seq = ?");
    this.getStatement = db.prepare("SELECT * FROM dead_letters WHERE seq = ?");
    this.listStatement = db.prepare("SELECT * FROM dead_letters WHERE seq > ? ORDER BY seq LIMIT ?");
    this.byAddressStatement = db.prepare(
      "SELECT * FROM dead_letters WHERE fn = ? AND id = ? AND seq > ? ORDER BY seq LIMIT ?",
    );
    this.countStatement = db.prepare("SELECT count(*) AS n FROM dead_letters");
  }

  /** Must run inside a commit unit. */
  insert(message: StoredMessage, error: { code: string; message: string }, now: number): number {
    const { target, caller, argument } = message;
    const info = this.insertStatement.run(
      target.fn,
      target.id,
      caller?.fn ?? null,
      caller?.id ?? null,
      argument.typename,
      argument.hasValue ? 1 : 0,
      argument.value,
      message.acceptedAt,
      message.seq,
      error.code,
      error.message,
      now,
    );
    return Number(info.lastInsertRowid);
  }

  /** Must run inside a commit unit. True when the dead letter existed. */
  delete(seq: number): boolean {
    return this.deleteStatement.run(seq).changes === 1;
  }

  get(seq: number): DeadLetter | undefined {
    const row = this.getStatement.get(seq);
    return row ? toDeadLetter(row) : undefined;
  }

  /** Oldest first, after `afterSeq` (for paging). */
  list(afterSeq: number, limit: number, address?: AddressRef): DeadLetter[] {
    const rows = address
      ? this.byAddressStatement.all(address.fn, address.id, afterSeq, limit)
      : this.listStatement.all(afterSeq, limit);
    return rows.map(toDeadLetter);
  }

  count(): number {
    return this.countStatement.get()?.n ?? 0;
  }
}

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    seq: row.seq,
    // The message as it was in the backlog: its own seq, not the dead letter's.
    message: toMessage({ ...row, seq: row.original_seq }),
    errorCode: row.error_code,
    errorMessage: row.error_message,
    deadLetteredAt: row.dead_lettered_at,
  };
}
