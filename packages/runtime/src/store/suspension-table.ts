import type Database from "better-sqlite3";
import type { AddressRef, Suspension } from "./records.js";

interface SuspensionRow {
  fn: string;
  id: string;
  failures: number;
  error_code: string;
  error_message: string;
  suspended_at: number;
  retry_at: number;
}

/** Addresses whose batch failed past the endpoint's budget, with their last error. */
export class SuspensionTable {
  private readonly upsertStatement: Database.Statement;
  private readonly deleteStatement: Database.Statement;
  private readonly allStatement: Database.Statement<[], SuspensionRow>;

  constructor(db: Database.Database) {
    this.upsertStatement = db.prepare(
      `INSERT INTO suspensions (fn, id, failures, error_code, error_message, suspended_at, retry_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (fn, id) DO UPDATE SET failures = excluded.failures, error_code = excluded.error_code,
         error_message = excluded.error_message, retry_at = excluded.retry_at`,
    );
    this.deleteStatement = db.prepare("DELETE FROM suspensions WHERE fn = ? AND id = ?");
    this.allStatement = db.prepare("SELECT * FROM suspensions ORDER BY suspended_at");
  }

  upsert(suspension: Suspension): void {
    const { address, failures, errorCode, errorMessage, suspendedAt, retryAt } = suspension;
    this.upsertStatement.run(address.fn, address.id, failures, errorCode, errorMessage, suspendedAt, retryAt);
  }

  delete(address: AddressRef): void {
    this.deleteStatement.run(address.fn, address.id);
  }

  all(): Suspension[] {
    return this.allStatement.all().map((row) => ({
      address: { fn: row.fn, id: row.id },
      failures: row.failures,
      errorCode: row.error_code,
      errorMessage: row.error_message,
      suspendedAt: row.suspended_at,
      retryAt: row.retry_at,
    }));
  }
}
