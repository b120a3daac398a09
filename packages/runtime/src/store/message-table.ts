import type Database from "better-sqlite3";
import type { AddressRef, AddressRow, BacklogPage, NewMessage, StoredMessage } from "./records.js";

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

export type { AddressRow } from "./records.js";

/** Accepted messages: the inbox and every address's backlog, in acceptance order. */
export class MessageTable {
  private readonly insertStatement: Database.Statement;
  private readonly deleteStatement: Database.Statement;
  private readonly allStatement: Database.Statement<[], MessageRow>;
  private readonly countStatement: Database.Statement<[], { n: number }>;
  private readonly byAddressStatement: Database.Statement<[string, string], MessageRow>;
  /**
   * `headOf`'s statements by batch limit, the limit written into the SQL: SQLite (3.4x+, as
   * better-sqlite3 bundles it) prepares a statement again whenever a bound LIMIT is rebound,
   * which doubled the cost of reading every batch. There are as many limits as endpoints' batch
   * sizes (maxNumBatchRequests), a handful; 0 stands for no limit.
   */
  private readonly headStatements = new Map<number, Database.Statement<[string, string], MessageRow>>();
  private readonly countForAddressStatement: Database.Statement<
    [string, string],
    { n: number; last: number | null }
  >;
  private readonly pageStatement: Database.Statement<[number, number], AddressRow>;
  private readonly pageSkippingStatement: Database.Statement<[number, string, number], AddressRow>;
  private readonly lastSeqStatement: Database.Statement<[], { last: number | null }>;
  private readonly nextIdStatement: Database.Statement<[string, string], { id: string }>;

  constructor(private readonly db: Database.Database) {
    this.insertStatement = db.prepare(
      `INSERT INTO messages (fn, id, caller_fn, caller_id, typename, has_value, value, accepted_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.deleteStatement = db.prepare("DELETE FROM messages WHERE seq = ?");
    this.allStatement = db.prepare("SELECT * FROM messages ORDER BY seq");
    this.countStatement = db.prepare("SELECT count(*) AS n FROM messages");
    this.byAddressStatement = db.prepare("SELECT * FROM messages WHERE fn = ? AND id = ? ORDER BY seq");
    this.countForAddressStatement = db.prepare(
      "SELECT count(*) AS n, max(seq) AS last FROM messages WHERE fn = ? AND id = ?",
    );
    this.pageStatement = db.prepare("SELECT seq, fn, id FROM messages WHERE seq > ? ORDER BY seq LIMIT ?");
    // The types to leave out as one JSON array: a single statement for any number of them.
    this.pageSkippingStatement = db.prepare(
      `SELECT seq, fn, id FROM messages
       WHERE seq > ? AND fn NOT IN (SELECT value FROM json_each(?))
       ORDER BY seq LIMIT ?`,
    );
    this.lastSeqStatement = db.prepare("SELECT max(seq) AS last FROM messages");
    this.nextIdStatement = db.prepare(
      "SELECT id FROM messages WHERE fn = ? AND id > ? ORDER BY fn, id, seq LIMIT 1",
    );
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
    // The same shape (property order) toMessage gives a message read back: dispatch sends both.
    return caller
      ? { seq, target, caller, argument, acceptedAt: now }
      : { seq, target, argument, acceptedAt: now };
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

  /** The oldest `limit` messages of an address, in order: the next batch (Infinity: all of them). */
  headOf(address: AddressRef, limit: number): StoredMessage[] {
    // No limit (an endpoint's maxNumBatchRequests <= 0) is kept as 0.
    const key = Number.isFinite(limit) ? Math.max(1, Math.floor(limit)) : 0;
    let statement = this.headStatements.get(key);
    if (!statement) {
      statement = this.db.prepare(
        `SELECT * FROM messages WHERE fn = ? AND id = ? ORDER BY seq${key > 0 ? ` LIMIT ${key}` : ""}`,
      );
      this.headStatements.set(key, statement);
    }
    return statement.all(address.fn, address.id).map(toMessage);
  }

  /** How many messages an address has stored, and the newest one's seq (0 when none). */
  countFor(address: AddressRef): { count: number; lastSeq: number } {
    const row = this.countForAddressStatement.get(address.fn, address.id);
    return { count: row?.n ?? 0, lastSeq: row?.last ?? 0 };
  }

  /**
   * The addresses of the messages after `afterSeq`, in acceptance order: how dispatch finds
   * work in the store a page at a time instead of loading every message.
   */
  pageAfter(afterSeq: number, limit: number): AddressRow[] {
    return this.pageStatement.all(afterSeq, limit);
  }

  /**
   * pageAfter without the messages of `skipTypes` (parked function types): SQLite steps over
   * them, so a million messages behind a down endpoint never become JS objects. A short page
   * means everything stored was read, so `scannedTo` is then the newest seq: the reader moves
   * past the left-out messages at the end instead of stepping over them again on every read.
   * (Reads and commits share this connection's thread, so no message lands between the two
   * statements.)
   */
  pageAfterSkipping(afterSeq: number, limit: number, skipTypes: readonly string[]): BacklogPage {
    const rows =
      skipTypes.length === 0
        ? this.pageStatement.all(afterSeq, limit)
        : this.pageSkippingStatement.all(afterSeq, JSON.stringify(skipTypes), limit);
    const last = rows.at(-1)?.seq ?? afterSeq;
    if (rows.length === limit) return { rows, scannedTo: last };
    return { rows, scannedTo: Math.max(last, this.lastSeqStatement.get()?.last ?? 0) };
  }

  /** The first id after `afterId` (in id order) of function type `fn` that has a message. */
  nextIdWithMessages(fn: string, afterId: string): string | undefined {
    return this.nextIdStatement.get(fn, afterId)?.id;
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
