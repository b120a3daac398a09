/**
 * What a cache backend stores and promises. Keys arrive already scoped (the Cache adds the
 * application prefix) and validated; values are bytes; TTLs are whole milliseconds > 0.
 * Every write either happens entirely or not at all, and conditional writes are atomic
 * with respect to every other client of the same backend.
 */

/** An opaque token that changes on every write of a key; compare it for equality only. */
export type CacheVersion = string;

export interface CacheEntry {
  /** The stored bytes; the caller owns this copy (it may keep, change or transfer it). */
  readonly value: Uint8Array;
  readonly version: CacheVersion;
  /** Milliseconds until the entry expires, rounded up. */
  readonly ttlRemainingMs: number;
}

/**
 * When a conditional write stores its value:
 * - `absent`: no live entry under the key;
 * - `present`: a live entry exists;
 * - `equal`: a live entry whose bytes equal `value`;
 * - `notEqual`: no live entry, or one whose bytes differ from `value`;
 * - `version`: a live entry whose version is `version` (compare-and-swap).
 */
export type SetCondition =
  | { readonly kind: "absent" }
  | { readonly kind: "present" }
  | { readonly kind: "equal"; readonly value: Uint8Array }
  | { readonly kind: "notEqual"; readonly value: Uint8Array }
  | { readonly kind: "version"; readonly version: CacheVersion };

export type SetIfResult =
  | { readonly stored: true; readonly version: CacheVersion }
  | { readonly stored: false };

export interface CacheBackend {
  /** `memory` or `redis`, for logs and metrics. */
  readonly kind: string;
  /** The live entry under `key`, or undefined when there is none or it expired. */
  get(key: string): Promise<CacheEntry | undefined>;
  /** Stores `value` for `ttlMs`, replacing any entry; returns the new version. */
  set(key: string, value: Uint8Array, ttlMs: number): Promise<CacheVersion>;
  /** Stores `value` for `ttlMs` only when `condition` holds, atomically. */
  setIf(key: string, value: Uint8Array, ttlMs: number, condition: SetCondition): Promise<SetIfResult>;
  /** Removes the entry; true when a live entry was removed. */
  delete(key: string): Promise<boolean>;
  /**
   * Takes the load lock of `key` (getOrSet's cluster-wide single flight) for `ttlMs` when no
   * one holds it; true when taken. Locks live apart from entries: no key can name one.
   */
  tryLock(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Releases the load lock of `key` if `token` still holds it (not once it expired and was retaken). */
  unlock(key: string, token: string): Promise<void>;
  /** Whether calls can reach the storage now; readiness turns false while it cannot. */
  readonly reachable: boolean;
  /** Releases connections and memory; later calls fail with SB_CACHE_CLOSED. */
  close(): Promise<void>;
}
