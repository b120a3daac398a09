import type {
  DataRef,
  WireCacheCondition,
  WireCacheDeleteArgs,
  WireCacheEntry,
  WireCacheGetArgs,
  WireCacheInto,
  WireCacheSetArgs,
  WireCacheSetIfArgs,
  WireFlightBeginArgs,
  WireFlightBegun,
  WireFlightCompleteArgs,
  WireFlightFailArgs,
} from "@switchboard/sdk/internal";
import { type Cache, type CacheCondition, checkStaleWindow, checkTtl } from "../cache/cache.js";
import { type CacheValue, valueBytes } from "../cache/cache-value.js";
import type { LoadTurn } from "../cache/load-lock.js";
import { CacheErrors } from "../errors/cache-errors.js";
import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { CacheFlights } from "./cache-flights.js";
import type { DataStore } from "./data-store.js";
import type { HostCallResult, HostCallTable } from "./host-calls.js";
import type { Invocation } from "./invocation.js";
import { movableBuffer } from "./worker/movable-buffer.js";

export interface CacheCallContext {
  /** The module's view of the runtime's cache (its application scope). */
  readonly cache: Cache;
  readonly data: DataStore;
  /** Shared by every module of the host, so single flight spans all workers. */
  readonly flights: CacheFlights;
}

/** Loader error messages relayed to waiters are cut to this many characters. */
const MAX_LOADER_MESSAGE = 500;

/**
 * The `cache.*` host calls (docs/host.md has the contract). Values move as Data: a value
 * read `into: "data"` is put in the invocation's DataStore and only its id crosses to the
 * worker; a value written from a host-held Data (an upstream body, say) is read host-side.
 */
export function registerCacheHostCalls(table: HostCallTable, context: CacheCallContext): HostCallTable {
  const { cache, data, flights } = context;
  return table
    .register("cache.get", async (invocation, args) => {
      const { key, into } = argsOf<WireCacheGetArgs>(args);
      const entry = await cache.getEntry(key);
      if (!entry) return { value: null };
      return entryResult(data, invocation, entry, into, (entry) => entry);
    })
    .register("cache.set", async (invocation, args) => {
      const { key, value, ttlMs } = argsOf<WireCacheSetArgs>(args);
      return { value: { version: await cache.set(key, cacheValue(context, invocation, value), ttlMs) } };
    })
    .register("cache.setIf", async (invocation, args) => {
      const { key, value, condition, ttlMs } = argsOf<WireCacheSetIfArgs>(args);
      const resolved = await resolveCondition(context, invocation, condition);
      return { value: await cache.setIf(key, cacheValue(context, invocation, value), resolved, ttlMs) };
    })
    .register("cache.delete", async (_invocation, args) => {
      const { key } = argsOf<WireCacheDeleteArgs>(args);
      return { value: { deleted: await cache.delete(key) } };
    })
    .register("cache.flight.begin", async (invocation, args) => {
      const { key, ttlMs, staleWhileRevalidateMs, into } = argsOf<WireFlightBeginArgs>(args);
      const ttl = ttlMs === undefined ? cache.defaultTtlMs : checkTtl(ttlMs, "ttl");
      const staleMs = checkStaleWindow(staleWhileRevalidateMs);
      const entry = await cache.getEntry(key);
      const hit = (state: "hit" | "stale", found: WireCacheEntry) => ({ state, entry: found });
      const lockTtlMs = loadLockTtl(cache, invocation);
      if (entry) {
        if (entry.ttlRemainingMs > staleMs)
          return entryResult(data, invocation, entry, into, (e) => hit("hit", e));
        // Past its TTL, inside the stale window: answer stale unless nobody refreshes yet, here
        // or in another host (which then holds the key's load lock).
        const lock = flights.running(cache, key) ? undefined : await cache.tryClaimRefresh(key, lockTtlMs);
        if (!lock) return entryResult(data, invocation, entry, into, (e) => hit("stale", e));
        const flight = flights.start(cache, key, invocation.id, ttl, staleMs);
        flights.holdLock(flight, lock);
        const begun: WireFlightBegun = { state: "load", flight: flight.token, refresh: true };
        return { value: begun };
      }
      const running = flights.running(cache, key);
      if (running) {
        const loaded = await flights.wait(running, invocation.signal);
        // Waiters share the loaded bytes: one moved to its worker needs a copy of its own.
        const value = into === "bytes" ? new Uint8Array(loaded.value) : loaded.value;
        return entryResult(data, invocation, { ...loaded, value }, into, (e) => hit("hit", e));
      }
      // Callers in this host join this flight while it waits for its turn across hosts.
      const flight = flights.start(cache, key, invocation.id, ttl, staleMs);
      let turn: LoadTurn;
      try {
        turn = await cache.claimLoad(key, staleMs, lockTtlMs, invocation.signal);
      } catch (error) {
        flights.reject(flight, error as Error);
        throw error;
      }
      if (turn.kind === "loaded") {
        // Another host loaded it. The waiters get a copy: this caller's may move to its worker.
        flights.resolve(flight, { ...turn.entry, value: new Uint8Array(turn.entry.value) });
        return entryResult(data, invocation, turn.entry, into, (e) => hit("hit", e));
      }
      if (!flights.holdLock(flight, turn.lock)) {
        throw new SwitchboardError(
          CacheErrors.FLIGHT_ABANDONED,
          `the invocation loading cache key "${key}" ended while waiting for its turn`,
          { key },
        );
      }
      const begun: WireFlightBegun = { state: "load", flight: flight.token, refresh: false };
      return { value: begun };
    })
    .register("cache.flight.complete", async (invocation, args) => {
      const { flight: token, value } = argsOf<WireFlightCompleteArgs>(args);
      const flight = flights.owned(token, invocation.id);
      try {
        const bytes = await valueBytes(cacheValue(context, invocation, value), flight.cache.maxValueBytes);
        const ttl = flight.ttlMs + flight.staleMs;
        const version = await flight.cache.set(flight.key, bytes, ttl);
        flights.resolve(flight, { value: bytes, version, ttlRemainingMs: ttl });
        return { value: { version } };
      } catch (error) {
        flights.reject(flight, error as Error);
        throw error;
      }
    })
    .register("cache.flight.fail", (invocation, args) => {
      const { flight: token, message, code } = argsOf<WireFlightFailArgs>(args);
      const flight = flights.owned(token, invocation.id);
      const text = String(message).slice(0, MAX_LOADER_MESSAGE);
      flights.reject(
        flight,
        new SwitchboardError(
          CacheErrors.LOADER_FAILED,
          `the loader for cache key "${flight.key}" failed: ${text}`,
          { key: flight.key, ...(typeof code === "string" ? { loaderCode: code } : {}) },
        ),
      );
      return { value: null };
    })
    .onInvocationEnd((invocation) => flights.abandon(invocation.id));
}

/**
 * How long other hosts wait for this invocation's loader: until its deadline, when the host
 * abandons the flight and releases the lock anyway; the lock's TTL only matters if this host
 * dies first.
 */
function loadLockTtl(cache: Cache, invocation: Invocation): number {
  const left = invocation.deadlineAt - performance.now();
  return Number.isFinite(left) ? Math.max(1, Math.ceil(left)) : cache.loaderDeadlineMs;
}

/** Host-call arguments are an object; anything else (a hand-made call) gets a clear error. */
function argsOf<T>(args: unknown): T {
  if (typeof args !== "object" || args === null) {
    throw new SwitchboardError(CacheErrors.BAD_VALUE, "cache host calls take an object of arguments");
  }
  return args as T;
}

/** An entry answered as a Data id left in the host, or as bytes moved (not copied) to the worker. */
function entryResult(
  data: DataStore,
  invocation: Invocation,
  entry: { readonly value: Uint8Array; readonly version: string; readonly ttlRemainingMs: number },
  into: WireCacheInto,
  wrap: (entry: WireCacheEntry) => unknown,
): HostCallResult {
  const { version, ttlRemainingMs } = entry;
  if (into === "bytes") {
    const bytes = ownBuffer(entry.value);
    const transfer = movableBuffer(bytes);
    return { value: wrap({ value: { bytes }, version, ttlRemainingMs }), ...(transfer ? { transfer } : {}) };
  }
  const id = data.put(invocation.id, { kind: "bytes", bytes: entry.value });
  return { value: wrap({ value: { id }, version, ttlRemainingMs }) };
}

/** Bytes that own their whole buffer, so transferring it detaches nothing anyone else uses. */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !Buffer.isBuffer(bytes)) {
    return bytes;
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/** A wire value as something the Cache stores: inline bytes, or a host-held Data read host-side. */
function cacheValue(context: CacheCallContext, invocation: Invocation, ref: unknown): CacheValue {
  if (typeof ref === "object" && ref !== null) {
    if ("bytes" in ref && ref.bytes instanceof Uint8Array) return ref.bytes;
    if ("id" in ref && typeof ref.id === "number") {
      const id = ref.id;
      const entry = context.data.get(invocation.id, id);
      if (entry.kind === "bytes") return entry.bytes;
      return {
        readBytes: (maxBytes) =>
          context.data.read(invocation.id, id, maxBytes).catch((error: unknown) => {
            if (error instanceof SwitchboardError && error.code === HostErrors.DATA_TOO_LARGE.code) {
              throw new SwitchboardError(
                CacheErrors.VALUE_TOO_LARGE,
                `Data ${id} is larger than the cache's maxValueBytes (${maxBytes} bytes)`,
                { maxValueBytes: maxBytes },
              );
            }
            throw error;
          }),
      };
    }
  }
  throw new SwitchboardError(CacheErrors.BAD_VALUE, "a cache value crosses as { id } or { bytes }");
}

async function resolveCondition(
  context: CacheCallContext,
  invocation: Invocation,
  condition: WireCacheCondition,
): Promise<CacheCondition> {
  if (typeof condition === "object" && condition !== null) {
    const bytesOf = (ref: DataRef) =>
      valueBytes(cacheValue(context, invocation, ref), context.cache.maxValueBytes);
    if ("equal" in condition) return { equal: await bytesOf(condition.equal) };
    if ("notEqual" in condition) return { notEqual: await bytesOf(condition.notEqual) };
  }
  // "absent", "present", { version } and anything malformed: the Cache checks them.
  return condition as CacheCondition;
}
