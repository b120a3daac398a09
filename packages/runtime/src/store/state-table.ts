import type Database from "better-sqlite3";
import type { AddressRef, StateValue } from "./records.js";
import { StateCache } from "./state-cache.js";

interface StateRow {
  name: string;
  value: Uint8Array;
  expires_at: number | null;
}

/** Addresses whose state stays in memory; beyond that the least recently used is re-read. */
export const DEFAULT_STATE_CACHE_ADDRESSES = 65_536;

/**
 * State values per address and state name, with their expiry time. Reads are served from a
 * write-through cache; writes go to SQLite inside the caller's commit unit and to the cache.
 */
export class StateTable {
  private readonly readStatement: Database.Statement<[string, string, number], StateRow>;
  private readonly putStatement: Database.Statement;
  private readonly deleteStatement: Database.Statement;
  private readonly touchStatement: Database.Statement;
  private readonly purgeStatement: Database.Statement;
  private readonly cache: StateCache;

  constructor(db: Database.Database, cacheAddresses = DEFAULT_STATE_CACHE_ADDRESSES) {
    this.cache = new StateCache(cacheAddresses);
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

  /** Live (unexpired) values of an address; expired values are never returned. Do not mutate. */
  read(address: AddressRef, now: number): ReadonlyMap<string, StateValue> {
    const key = cacheKey(address);
    let values = this.cache.get(key);
    if (values === undefined) {
      values = new Map();
      for (const row of this.readStatement.all(address.fn, address.id, now)) {
        values.set(row.name, { name: row.name, value: row.value, expiresAt: row.expires_at });
      }
      this.cache.set(key, values);
    }
    for (const value of values.values()) {
      if (value.expiresAt !== null && value.expiresAt <= now) return liveOnly(values, now);
    }
    return values;
  }

  /** Must run inside a commit unit. */
  put(address: AddressRef, name: string, value: Uint8Array, expiresAt: number | null): void {
    this.putStatement.run(address.fn, address.id, name, value, expiresAt);
    // A copy: the caller's bytes are usually a view into a whole response buffer.
    this.cache.peek(cacheKey(address))?.set(name, { name, value: new Uint8Array(value), expiresAt });
  }

  /** Must run inside a commit unit. */
  delete(address: AddressRef, name: string): void {
    this.deleteStatement.run(address.fn, address.id, name);
    this.cache.peek(cacheKey(address))?.delete(name);
  }

  /** Moves a live value's expiry (AFTER_INVOKE); expired values stay expired. */
  touch(address: AddressRef, name: string, expiresAt: number, now: number): void {
    this.touchStatement.run(expiresAt, address.fn, address.id, name, now);
    const values = this.cache.peek(cacheKey(address));
    const current = values?.get(name);
    if (values && current && (current.expiresAt === null || current.expiresAt > now)) {
      values.set(name, { ...current, expiresAt });
    }
  }

  /** Reclaims space held by expired values; returns how many were removed. */
  purgeExpired(now: number): number {
    // Cached expired values are already filtered out on read; the cache needs no change.
    return this.purgeStatement.run(now).changes;
  }

  /** Forgets every cached value (after a rollback); the next reads go to SQLite. */
  dropCache(): void {
    this.cache.clear();
  }
}

function cacheKey(address: AddressRef): string {
  return `${address.fn}\u0000${address.id}`;
}

function liveOnly(values: ReadonlyMap<string, StateValue>, now: number): Map<string, StateValue> {
  const live = new Map<string, StateValue>();
  for (const [name, value] of values) {
    if (value.expiresAt === null || value.expiresAt > now) live.set(name, value);
  }
  return live;
}
