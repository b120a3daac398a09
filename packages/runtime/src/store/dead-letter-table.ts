import type Database from "better-sqlite3";
import type { AddressRef, StoredMessage } from "./records.js";

interface DeadLetterRow {
  seq: number;
  fn: string;
  id: string;
  caller_fn: string | null;
  caller_id: string | null;
  typename: string;
  has_value: number;
  value: Uint8Array | null;
  accepted_at: number;
  original_seq: number;
  error_code: string;
  error_message: string;
  dead_lettered_at: number;
}

/** A message taken out of dispatch by an operator, with the error that stopped its address. */
export interface DeadLetter {
  /** The dead letter's own id. */
  readonly seq: number;
  readonly message: StoredMessage;
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly deadLetteredAt: number;
}

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
    message: {
      seq: row.original_seq,
      target: { fn: row.fn, id: row.id },
      ...(row.caller_fn !== null && row.caller_id !== null
        ? { caller: { fn: row.caller_fn, id: row.caller_id } }
        : {}),
      argument: {
        typename: row.typename,
        hasValue: row.has_value === 1,
        value: row.value ?? new Uint8Array(0),
      },
      acceptedAt: row.accepted_at,
    },
    errorCode: row.error_code,
    errorMessage: row.error_message,
    deadLetteredAt: row.dead_lettered_at,
  };
}
