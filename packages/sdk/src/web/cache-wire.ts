/**
 * The `cache.*` host calls: arguments and answers as they cross the worker's port (internal;
 * docs/host.md, "cache host calls", is the contract a host or a fake must implement).
 * Values travel as DataRefs: `{ id }` is a Data whose bytes stay in the host, `{ bytes }`
 * carries the bytes themselves.
 */
import type { DataRef } from "./data.js";

/** Where a value read from the cache goes: left in the host as a Data (`data`) or copied here (`bytes`). */
export type WireCacheInto = "data" | "bytes";

export interface WireCacheEntry {
  readonly value: DataRef;
  /** Opaque; changes on every write; for `{ version }` conditions. */
  readonly version: string;
  readonly ttlRemainingMs: number;
}

export type WireCacheCondition =
  | "absent"
  | "present"
  | { readonly equal: DataRef }
  | { readonly notEqual: DataRef }
  | { readonly version: string };

/** `cache.get` -> `WireCacheEntry | null`. */
export interface WireCacheGetArgs {
  readonly key: string;
  readonly into: WireCacheInto;
}

/** `cache.set` -> `{ version }`. A missing ttlMs means the configured default. */
export interface WireCacheSetArgs {
  readonly key: string;
  readonly value: DataRef;
  readonly ttlMs?: number;
}

/** `cache.setIf` -> `{ stored: true, version } | { stored: false }`. */
export interface WireCacheSetIfArgs extends WireCacheSetArgs {
  readonly condition: WireCacheCondition;
}

/** `cache.delete` -> `{ deleted }`. */
export interface WireCacheDeleteArgs {
  readonly key: string;
}

/** `cache.flight.begin`: the first half of a single-flight getOrSet. */
export interface WireFlightBeginArgs {
  readonly key: string;
  readonly ttlMs?: number;
  readonly staleWhileRevalidateMs?: number;
  readonly into: WireCacheInto;
}

/**
 * `hit`: a live value (possibly just loaded by another caller this call waited for);
 * `stale`: past its TTL but inside the stale window, while another caller refreshes it;
 * `load`: this caller runs the loader and must answer with `cache.flight.complete` or
 * `cache.flight.fail` (`refresh` says an expired-but-stale value exists).
 */
export type WireFlightBegun =
  | { readonly state: "hit" | "stale"; readonly entry: WireCacheEntry }
  | { readonly state: "load"; readonly flight: number; readonly refresh: boolean };

/** `cache.flight.complete` -> `{ version }`: stores the loaded value and answers every waiter. */
export interface WireFlightCompleteArgs {
  readonly flight: number;
  readonly value: DataRef;
}

/** `cache.flight.fail` -> `null`: the loader threw; waiters fail with SB_CACHE_LOADER_FAILED. */
export interface WireFlightFailArgs {
  readonly flight: number;
  readonly message: string;
  readonly code?: string;
}
