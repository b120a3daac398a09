import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { CacheErrors } from "../errors/cache-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { CacheBackend, CacheEntry } from "./cache-backend.js";

/**
 * The cluster-wide half of getOrSet's single flight: a lock per key in the backend, so that of
 * every instance sharing it only the lock holder runs the loader. Others poll for the value.
 *
 * Polling rather than pub/sub: a subscription needs a second connection per instance,
 * keyspace notifications need a server setting that managed Redis often refuses, and a
 * message published between a waiter's check and its subscribe is lost, so polling would be
 * needed as the fallback anyway. In-process single flight leaves one poller per key per
 * instance, and the backoff caps it at a few commands a second.
 */

/** First pause between polls; loads are upstream calls, rarely faster than this. */
const FIRST_POLL_MS = 10;
/** Longest pause: the most a waiter lags behind the value landing. */
const MAX_POLL_MS = 100;

/** The lock on one key's load; release() is safe to call twice and never throws. */
export interface LoadLock {
  release(): Promise<void>;
}

/** What a caller that missed gets: the value another instance stored, or the lock to load it. */
export type LoadTurn =
  | { readonly kind: "loaded"; readonly entry: CacheEntry }
  | { readonly kind: "load"; readonly lock: LoadLock };

export interface LoadTurnOptions {
  /** An entry with at most this much TTL left is stale: it does not end the wait. */
  readonly staleMs: number;
  /** The lock's TTL: how long others wait for this caller's loader before taking over. */
  readonly lockTtlMs: number;
  /** Waiting gives up with SB_CACHE_FLIGHT_ABANDONED after this long. */
  readonly maxWaitMs: number;
  /** Ends the wait early (the waiting invocation ended). */
  readonly signal?: AbortSignal;
  /** Where a failed release is reported (the lock then expires by itself). */
  readonly onReleaseError?: (error: unknown) => void;
}

/**
 * Waits until the key holds a fresh value or this caller holds its load lock. A holder that
 * dies leaves a lock that expires after its TTL, and a holder whose loader fails releases it:
 * either way a waiter then takes the lock and loads itself, so nobody waits on a dead loader.
 */
export async function awaitLoadTurn(
  backend: CacheBackend,
  key: string,
  options: LoadTurnOptions,
): Promise<LoadTurn> {
  const giveUpAt = Date.now() + options.maxWaitMs;
  let pause = FIRST_POLL_MS;
  for (;;) {
    const current = await backend.get(key);
    if (current && current.ttlRemainingMs > options.staleMs) return { kind: "loaded", entry: current };
    const lock = await tryLoadLock(backend, key, options.lockTtlMs, options.onReleaseError);
    if (lock) {
      // The previous holder may have stored its value and released between the read above and
      // taking the lock: loading again would be the duplicate call this lock exists to avoid.
      const landed = await backend.get(key).catch(async (error: unknown) => {
        await lock.release();
        throw error;
      });
      if (landed && landed.ttlRemainingMs > options.staleMs) {
        await lock.release();
        return { kind: "loaded", entry: landed };
      }
      return { kind: "load", lock };
    }
    const left = giveUpAt - Date.now();
    if (left <= 0) {
      throw new SwitchboardError(
        CacheErrors.FLIGHT_ABANDONED,
        `waited ${options.maxWaitMs} ms for another instance to load cache key "${key}"`,
        { key },
      );
    }
    await sleep(Math.min(pause, left), undefined, options.signal ? { signal: options.signal } : {}).catch(
      () => {
        throw options.signal?.reason ?? new Error("aborted");
      },
    );
    pause = Math.min(pause * 2, MAX_POLL_MS);
  }
}

/** The key's load lock if nobody holds it now (a stale refresh: when taken, someone else refreshes). */
export async function tryLoadLock(
  backend: CacheBackend,
  key: string,
  lockTtlMs: number,
  onReleaseError: (error: unknown) => void = () => {},
): Promise<LoadLock | undefined> {
  // Unique per attempt: a holder whose lock expired and was taken over can never release it.
  const token = randomBytes(12).toString("base64url");
  if (!(await backend.tryLock(key, token, Math.max(1, Math.ceil(lockTtlMs))))) return undefined;
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await backend.unlock(key, token).catch(onReleaseError);
    },
  };
}
