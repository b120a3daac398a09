import type Database from "better-sqlite3";
import type { AddressRef, StateValue } from "./records.js";

interface StateRow {
  name: string;
  value: Uint8Array;
  expires_at: number | null;
}

/** State values per address and state name, with their expiry time. */
export class StateTable {
  private readonly readStatement: Database.Statement<[string, string, number], StateRow>;
  private readonly putStatement: Database.Statement;
  private readonly deleteStatement: Database.Statement;
  private readonly touchStatement: Database.Statement;
  private readonly purgeStatement: Database.Statement;

  constructor(db: Database.Database) {
    this.readStatement = db.prepare(
      "SELECT name, value, expires_at FROM state WHERE fn = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)",
    );
    this.putStatement = db.prepare(
      `INSERT INTO state (fn, id, name, value, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (fn, id, name) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    );
    this.deleteStatement = db.prepare("DELETE FROM state WHERE fn = ? AND id = ? AND name = ?");
    this.touchStatement = db.prepare(
      "UPDATE state SET expires_at = ? WHERE fn = ? AND id = ? AND name = ? AND (expires_at IS NULL OR expires_at > ?)",
    );
    this.purgeStatement = db.prepare("DELETE FROM state WHERE expires_at IS NOT NULL AND expires_at <= ?");
  }

  /** Live (unexpired) values of an address; expired values are never returned. */
  read(address: AddressRef, now: number): Map<string, StateValue> {
    const values = new Map<string, StateValue>();
    for (const row of this.readStatement.all(address.fn, address.id, now)) {
      values.set(row.name, { name: row.name, value: row.value, expiresAt: row.expires_at });
    }
    return values;
  }

  /** Must run inside a commit unit. */
  put(address: AddressRef, name: string, value: Uint8Array, expiresAt: number | null): void {
    this.putStatement.run(address.fn, address.id, name, value, expiresAt);
  }

  /** Must run inside a commit unit. */
  delete(address: AddressRef, name: string): void {
    this.deleteStatement.run(address.fn, address.id, name);
  }

  /** Moves a live value's expiry (AFTER_INVOKE); expired values stay expired. */
  touch(address: AddressRef, name: string, expiresAt: number, now: number): void {
    this.touchStatement.run(expiresAt, address.fn, address.id, name, now);
  }

  /** Reclaims space held by expired values; returns how many were removed. */
  purgeExpired(now: number): number {
    return this.purgeStatement.run(now).changes;
  }
}
