import type { Data } from "./data.js";

/** What a function can store: a Data (moved host-side when its bytes are there), bytes or text. */
export type CacheValueInput = Data | Uint8Array | string;

/** A cached value with what compare-and-swap and freshness checks need. */
export interface CacheEntry {
  /** The bytes stay in the host until read; return it to relay it without copying. */
  readonly value: Data;
  /** Opaque; changes on every write of the key. Use it in `setIf(..., { version })`. */
  readonly version: string;
  /** Milliseconds until the entry expires. */
  readonly ttlRemainingMs: number;
}

/**
 * When `setIf` writes, atomically: `"absent"` (no live entry), `"present"` (a live entry),
 * `{ equal }` (the current bytes equal these), `{ notEqual }` (absent, or different bytes),
 * `{ version }` (compare-and-swap on the version `getEntry` returned).
 */
export type CacheCondition =
  | "absent"
  | "present"
  | { readonly equal: CacheValueInput }
  | { readonly notEqual: CacheValueInput }
  | { readonly version: string };

export type SetIfResult = { readonly stored: true; readonly version: string } | { readonly stored: false };

export interface GetOrSetOptions {
  /**
   * Keep an entry this many ms past its TTL; in that window callers get the stale value at
   * once while exactly one caller refreshes it (that caller waits for its own loader).
   */
  readonly staleWhileRevalidateMs?: number;
}

export type CacheLoader = () => CacheValueInput | Promise<CacheValueInput>;
