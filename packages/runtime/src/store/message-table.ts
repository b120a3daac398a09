import type Database from "better-sqlite3";
import type { AddressRef, NewMessage, StoredMessage } from "./records.js";

/** A message's columns, as the messages and dead_letters tables both store them. */
export interface MessageRow {
  seq: number;
  fn: string;
  id: string;
  caller_fn: string | null;
  caller_id: string | null;
  typename: string;
  has_value: number;
  value: Uint8Array | null;
  accepted_at: number;
}

/** Accepted messages: the inbox and every address's backlog, in acceptance order. */
export class MessageTable {
  private readonly insertStatement: Database.Statement;
  private readonly deleteStatement: Database.Statement;
  private readonly allStatement: Database.Statement<[], MessageRow>;
  private readonly countStatement: Database.Statement<[], { n: number }>;
  private readonly byAddressStatement: Database.Statement<[string, string], MessageRow>;

  constructor(db: Database.Database) {
    this.insertStatement = db.prepare(
      `INSERT INTO messages (fn, id, caller_fn, caller_id, typename, has_value, value, accepted_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.deleteStatement = db.prepare("DELETE FROM messages WHERE seq = ?");
    this.allStatement = db.prepare("SELECT * FROM messages ORDER BY seq");
    this.countStatement = db.prepare("SELECT count(*) AS n FROM messages");
    this.byAddressStatement = db.prepare("SELECT * FROM messages WHERE fn = ? AND id = ? ORDER BY seq");
  }

  /** Must run inside a commit unit. */
  insert(message: NewMessage, now: number): StoredMessage {
    const { target, caller, argument } = message;
    const info = this.insertStatement.run(
      target.fn,
      target.id,
      caller?.fn ?? null,
      caller?.id ?? null,
      argument.typename,
      argument.hasValue ? 1 : 0,
      argument.value,
      now,
    );
    const seq = Number(info.lastInsertRowid);
    return caller
      ? { target, caller, argument, seq, acceptedAt: now }
      : { target, argument, seq, acceptedAt: now };
  }

  /** Must run inside a commit unit. */
  delete(seq: number): void {
    this.deleteStatement.run(seq);
  }

  all(): StoredMessage[] {
    return this.allStatement.all().map(toMessage);
  }

  forAddress(address: AddressRef): StoredMessage[] {
    return this.byAddressStatement.all(address.fn, address.id).map(toMessage);
  }

  count(): number {
    return this.countStatement.get()?.n ?? 0;
  }
}

export function toMessage(row: MessageRow): StoredMessage {
  return {
    seq: row.seq,
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
  };
}
