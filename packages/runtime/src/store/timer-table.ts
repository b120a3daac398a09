import type Database from "better-sqlite3";
import type { AddressRef, NewTimer, StoredTimer } from "./records.js";

interface TimerRow {
  seq: number;
  sender_fn: string;
  sender_id: string;
  token: string | null;
  due_at: number;
  target_fn: string;
  target_id: string;
  typename: string;
  has_value: number;
  value: Uint8Array | null;
}

/** Pending delayed messages. Cancellation tokens are scoped to the sending address. */
export class TimerTable {
  private readonly insertStatement: Database.Statement;
  private readonly cancelStatement: Database.Statement;
  private readonly deleteStatement: Database.Statement;
  private readonly dueStatement: Database.Statement<[number, number], TimerRow>;
  private readonly nextDueStatement: Database.Statement<[], { due: number | null }>;
  private readonly countStatement: Database.Statement<[], { n: number }>;
  private readonly bySenderStatement: Database.Statement<[string, string], TimerRow>;
  private readonly byTargetStatement: Database.Statement<[string, string], TimerRow>;

  constructor(db: Database.Database) {
    this.insertStatement = db.prepare(
      `INSERT INTO timers (sender_fn, sender_id, token, due_at, target_fn, target_id, typename, has_value, value)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.cancelStatement = db.prepare(
      "DELETE FROM timers WHERE sender_fn = ? AND sender_id = ? AND token = ?",
    );
    this.deleteStatement = db.prepare("DELETE FROM timers WHERE seq = ?");
    this.dueStatement = db.prepare("SELECT * FROM timers WHERE due_at <= ? ORDER BY due_at, seq LIMIT ?");
    this.nextDueStatement = db.prepare("SELECT min(due_at) AS due FROM timers");
    this.countStatement = db.prepare("SELECT count(*) AS n FROM timers");
    this.bySenderStatement = db.prepare(
      "SELECT * FROM timers WHERE sender_fn = ? AND sender_id = ? ORDER BY due_at, seq",
    );
    // Admin read-outs only: a scan is fine, an index would cost every timer write.
    this.byTargetStatement = db.prepare(
      "SELECT * FROM timers WHERE target_fn = ? AND target_id = ? ORDER BY due_at, seq",
    );
  }

  /**
   * Must run inside a commit unit. Re-using a token that is still pending replaces the
   * pending message (StateFun's Java runtime failed the job instead).
   */
  schedule(timer: NewTimer): void {
    const { sender, token, dueAt, message } = timer;
    if (token) this.cancel(sender, token);
    this.insertStatement.run(
      sender.fn,
      sender.id,
      token ?? null,
      dueAt,
      message.target.fn,
      message.target.id,
      message.argument.typename,
      message.argument.hasValue ? 1 : 0,
      message.argument.value,
    );
  }

  /** Must run inside a commit unit. Unknown or already-fired tokens are a no-op. */
  cancel(sender: AddressRef, token: string): void {
    this.cancelStatement.run(sender.fn, sender.id, token);
  }

  /** Must run inside a commit unit. True when the timer was still pending. */
  deleteIfPending(seq: number): boolean {
    return this.deleteStatement.run(seq).changes === 1;
  }

  due(now: number, limit: number): StoredTimer[] {
    return this.dueStatement.all(now, limit).map(toTimer);
  }

  nextDueAt(): number | undefined {
    return this.nextDueStatement.get()?.due ?? undefined;
  }

  count(): number {
    return this.countStatement.get()?.n ?? 0;
  }

  forSender(sender: AddressRef): StoredTimer[] {
    return this.bySenderStatement.all(sender.fn, sender.id).map(toTimer);
  }

  forTarget(target: AddressRef): StoredTimer[] {
    return this.byTargetStatement.all(target.fn, target.id).map(toTimer);
  }
}

function toTimer(row: TimerRow): StoredTimer {
  return {
    seq: row.seq,
    sender: { fn: row.sender_fn, id: row.sender_id },
    ...(row.token !== null ? { token: row.token } : {}),
    dueAt: row.due_at,
    message: {
      target: { fn: row.target_fn, id: row.target_id },
      caller: { fn: row.sender_fn, id: row.sender_id },
      argument: {
        typename: row.typename,
        hasValue: row.has_value === 1,
        value: row.value ?? new Uint8Array(0),
      },
    },
  };
}
