import type { Cache } from "../cache/cache.js";
import type { LoadLock } from "../cache/load-lock.js";
import { CacheErrors } from "../errors/cache-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";

/** What a finished load hands to the callers that waited for it. */
export interface LoadedValue {
  readonly value: Uint8Array;
  readonly version: string;
  readonly ttlRemainingMs: number;
}

/** One getOrSet load running in some invocation, with the callers waiting for it. */
export interface Flight {
  readonly token: number;
  readonly cache: Cache;
  /** The key as the function gave it (the cache scopes it). */
  readonly key: string;
  /** The invocation running the loader. */
  readonly owner: number;
  readonly ttlMs: number;
  readonly staleMs: number;
  readonly waiters: Set<{ resolve(value: LoadedValue): void; reject(error: Error): void }>;
  /** The key's cluster-wide load lock, once taken; released when the flight ends. */
  lock?: LoadLock;
}

/**
 * getOrSet's single flight across every worker of the host: at most one loader per
 * (application, key) runs at a time; other callers wait here for its value or its error.
 * Across hosts sharing a Redis, the flight's owner also holds the key's load lock (see
 * cache/load-lock.ts), released however the flight ends.
 * The loader runs in the owner's worker, so a flight ends with `complete`, `fail`, or
 * `abandon` when its invocation ends without either: waiters never hang.
 */
export class CacheFlights {
  private readonly byKey = new Map<string, Flight>();
  private readonly byToken = new Map<number, Flight>();
  private nextToken = 1;

  running(cache: Cache, key: string): Flight | undefined {
    return this.byKey.get(flightKey(cache, key));
  }

  start(cache: Cache, key: string, owner: number, ttlMs: number, staleMs: number): Flight {
    const flight: Flight = {
      token: this.nextToken++,
      cache,
      key,
      owner,
      ttlMs,
      staleMs,
      waiters: new Set(),
    };
    this.byKey.set(flightKey(cache, key), flight);
    this.byToken.set(flight.token, flight);
    return flight;
  }

  /** The flight `token` names, if `owner` runs it. */
  owned(token: unknown, owner: number): Flight {
    const flight = typeof token === "number" ? this.byToken.get(token) : undefined;
    if (!flight || flight.owner !== owner) {
      throw new SwitchboardError(
        CacheErrors.UNKNOWN_FLIGHT,
        `getOrSet flight ${String(token)} is not running in this invocation`,
        { flight: token },
      );
    }
    return flight;
  }

  /** Hands the flight its load lock; false (and the lock released) when the flight already ended. */
  holdLock(flight: Flight, lock: LoadLock): boolean {
    if (this.byToken.get(flight.token) !== flight) {
      void lock.release();
      return false;
    }
    flight.lock = lock;
    return true;
  }

  /** Waits for the flight's value; gives up when the waiting invocation itself ends. */
  wait(flight: Flight, signal: AbortSignal): Promise<LoadedValue> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const waiter = {
        resolve: (value: LoadedValue) => {
          signal.removeEventListener("abort", onAbort);
          resolve(value);
        },
        reject: (error: Error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        flight.waiters.delete(waiter);
        reject(signal.reason as Error);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      flight.waiters.add(waiter);
    });
  }

  resolve(flight: Flight, value: LoadedValue): void {
    if (!this.end(flight)) return;
    for (const waiter of flight.waiters) waiter.resolve(value);
  }

  reject(flight: Flight, error: Error): void {
    if (!this.end(flight)) return;
    for (const waiter of flight.waiters) waiter.reject(error);
  }

  /** Fails every flight `owner` still runs: its invocation is over. */
  abandon(owner: number): void {
    for (const flight of this.byToken.values()) {
      if (flight.owner !== owner) continue;
      this.reject(
        flight,
        new SwitchboardError(
          CacheErrors.FLIGHT_ABANDONED,
          `the invocation loading cache key "${flight.key}" ended without storing a value`,
          { key: flight.key },
        ),
      );
    }
  }

  get size(): number {
    return this.byToken.size;
  }

  private end(flight: Flight): boolean {
    if (this.byToken.get(flight.token) !== flight) return false;
    this.byToken.delete(flight.token);
    this.byKey.delete(flightKey(flight.cache, flight.key));
    // Stored or failed (or abandoned): either way another host may load now. release() never throws.
    void flight.lock?.release();
    return true;
  }
}

function flightKey(cache: Cache, key: string): string {
  // Applications have no '/', so this cannot collide across scopes.
  return `${cache.application}/${key}`;
}
