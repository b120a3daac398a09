/**
 * The `cache.*` host calls in memory, for testing web functions without a host: the same
 * contract as Switchboard's host (docs/host.md, "cache host calls") with the same semantics:
 * TTLs on a clock the test controls, setIf conditions, versions, single-flight getOrSet,
 * stale-while-revalidate, size limits and the same error codes. A fake host bridge routes
 * every op starting with `cache.` to `call`, and tells the fake when an invocation ends.
 */
import type {
  WireCacheCondition,
  WireCacheEntry,
  WireCacheInto,
  WireFlightBegun,
} from "../web/cache-wire.js";
import type { DataRef } from "../web/data.js";

export interface FakeCacheData {
  /** The bytes behind a host-held Data id of `invocation` (the harness's data store). */
  read(id: number, invocation: number): Uint8Array | Promise<Uint8Array>;
  /** Stores bytes as a Data of `invocation` and returns its id; without it values come back as `{ bytes }`. */
  put?(bytes: Uint8Array, invocation: number): number;
}

export interface FakeCacheOptions {
  /** Where TTLs read the time (a FakeClock works); default Date.now. */
  readonly clock?: { now(): number };
  /** TTL of writes that give none; default 60 000 ms, as the runtime's default. */
  readonly defaultTtlMs?: number;
  /** Largest value; default 1 MiB, as the runtime's default. */
  readonly maxValueBytes?: number;
  /** Largest key in UTF-8 bytes; default 1024. */
  readonly maxKeyBytes?: number;
  readonly data?: FakeCacheData;
}

export interface FakeCache {
  /** The ops this fake answers. */
  readonly ops: readonly string[];
  handles(op: string): boolean;
  /** Answers one host call made by `invocation` (any number; default 0). Rejects as the host would. */
  call(op: string, args: unknown, invocation?: number): Promise<unknown>;
  /** The invocation is over: flights it still runs fail their waiters with SB_CACHE_FLIGHT_ABANDONED. */
  invocationEnded(invocation: number): void;
  /** Live entries now (expired ones are not counted). */
  readonly size: number;
  /** getOrSet loads running now. */
  readonly flights: number;
  clear(): void;
}

/** An error shaped like the one a real host call rejects with: a message, a stable code and a status. */
export class FakeHostCallError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "HostCallError";
  }
}

interface Entry {
  readonly value: Uint8Array;
  readonly version: string;
  readonly expiresAt: number;
}

interface Loaded {
  readonly value: Uint8Array;
  readonly version: string;
  readonly ttlRemainingMs: number;
}

interface Flight {
  readonly token: number;
  readonly key: string;
  readonly owner: number;
  readonly ttlMs: number;
  readonly staleMs: number;
  readonly waiters: Array<{ resolve(value: Loaded): void; reject(error: Error): void }>;
}

const OPS = [
  "cache.get",
  "cache.set",
  "cache.setIf",
  "cache.delete",
  "cache.flight.begin",
  "cache.flight.complete",
  "cache.flight.fail",
] as const;

const encoder = new TextEncoder();

export function createFakeCache(options: FakeCacheOptions = {}): FakeCache {
  const clock = options.clock ?? { now: () => Date.now() };
  const defaultTtlMs = options.defaultTtlMs ?? 60_000;
  const maxValueBytes = options.maxValueBytes ?? 1024 * 1024;
  const maxKeyBytes = options.maxKeyBytes ?? 1024;
  const entries = new Map<string, Entry>();
  const flights = new Map<string, Flight>();
  const tokens = new Map<number, Flight>();
  let nextVersion = 1;
  let nextToken = 1;

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= clock.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  const store = (key: string, value: Uint8Array, ttlMs: number): string => {
    const version = `v${nextVersion++}`;
    entries.set(key, { value: new Uint8Array(value), version, expiresAt: clock.now() + ttlMs });
    return version;
  };

  const bytesOf = async (ref: unknown, invocation: number): Promise<Uint8Array> => {
    let bytes: Uint8Array | undefined;
    if (typeof ref === "object" && ref !== null) {
      if ("bytes" in ref && ref.bytes instanceof Uint8Array) bytes = ref.bytes;
      else if ("id" in ref && typeof ref.id === "number") {
        if (!options.data) {
          throw new FakeHostCallError(
            "SB_HOST_UNKNOWN_DATA",
            500,
            `Data ${ref.id} is unknown: give createFakeCache a data store`,
          );
        }
        bytes = await options.data.read(ref.id, invocation);
      }
    }
    if (!bytes)
      throw new FakeHostCallError("SB_CACHE_BAD_VALUE", 400, "a cache value crosses as { id } or { bytes }");
    if (bytes.byteLength > maxValueBytes) {
      throw new FakeHostCallError(
        "SB_CACHE_VALUE_TOO_LARGE",
        413,
        `a cache value of ${bytes.byteLength} bytes is above the limit of ${maxValueBytes} bytes (maxValueBytes)`,
      );
    }
    return bytes;
  };

  const answer = (
    entry: { value: Uint8Array; version: string; ttlRemainingMs: number },
    into: WireCacheInto,
    invocation: number,
  ): WireCacheEntry => {
    const copy = new Uint8Array(entry.value);
    const value: DataRef =
      into === "data" && options.data?.put ? { id: options.data.put(copy, invocation) } : { bytes: copy };
    return { value, version: entry.version, ttlRemainingMs: entry.ttlRemainingMs };
  };

  const remaining = (entry: Entry) => Math.max(1, Math.ceil(entry.expiresAt - clock.now()));

  const owned = (token: unknown, invocation: number): Flight => {
    const flight = typeof token === "number" ? tokens.get(token) : undefined;
    if (!flight || flight.owner !== invocation) {
      throw new FakeHostCallError(
        "SB_CACHE_UNKNOWN_FLIGHT",
        400,
        `getOrSet flight ${String(token)} is not running in this invocation`,
      );
    }
    return flight;
  };

  const end = (flight: Flight, outcome: { value: Loaded } | { error: Error }): void => {
    if (tokens.get(flight.token) !== flight) return;
    tokens.delete(flight.token);
    flights.delete(flight.key);
    for (const waiter of flight.waiters) {
      if ("value" in outcome) waiter.resolve(outcome.value);
      else waiter.reject(outcome.error);
    }
  };

  const handlers: Record<
    (typeof OPS)[number],
    (args: Record<string, unknown>, invocation: number) => unknown
  > = {
    "cache.get": (args, invocation) => {
      const entry = live(checkKey(args.key, maxKeyBytes));
      return entry
        ? answer({ ...entry, ttlRemainingMs: remaining(entry) }, into(args.into), invocation)
        : null;
    },
    "cache.set": async (args, invocation) => {
      const key = checkKey(args.key, maxKeyBytes);
      const ttl = resolveTtl(args.ttlMs, defaultTtlMs);
      return { version: store(key, await bytesOf(args.value, invocation), ttl) };
    },
    "cache.setIf": async (args, invocation) => {
      const key = checkKey(args.key, maxKeyBytes);
      const ttl = resolveTtl(args.ttlMs, defaultTtlMs);
      const value = await bytesOf(args.value, invocation);
      const holds = await conditionHolds(args.condition as WireCacheCondition, live(key), (ref) =>
        bytesOf(ref, invocation),
      );
      return holds ? { stored: true, version: store(key, value, ttl) } : { stored: false };
    },
    "cache.delete": (args) => {
      const key = checkKey(args.key, maxKeyBytes);
      const existed = live(key) !== undefined;
      entries.delete(key);
      return { deleted: existed };
    },
    "cache.flight.begin": async (args, invocation): Promise<WireFlightBegun> => {
      const key = checkKey(args.key, maxKeyBytes);
      const ttlMs = resolveTtl(args.ttlMs, defaultTtlMs);
      const staleMs = checkStale(args.staleWhileRevalidateMs);
      const wanted = into(args.into);
      const entry = live(key);
      const running = flights.get(key);
      if (entry) {
        const ttlRemainingMs = remaining(entry);
        if (ttlRemainingMs > staleMs)
          return { state: "hit", entry: answer({ ...entry, ttlRemainingMs }, wanted, invocation) };
        if (running)
          return { state: "stale", entry: answer({ ...entry, ttlRemainingMs }, wanted, invocation) };
      } else if (running) {
        const loaded = await new Promise<Loaded>((resolve, reject) =>
          running.waiters.push({ resolve, reject }),
        );
        return { state: "hit", entry: answer(loaded, wanted, invocation) };
      }
      const flight: Flight = { token: nextToken++, key, owner: invocation, ttlMs, staleMs, waiters: [] };
      flights.set(key, flight);
      tokens.set(flight.token, flight);
      return { state: "load", flight: flight.token, refresh: entry !== undefined };
    },
    "cache.flight.complete": async (args, invocation) => {
      const flight = owned(args.flight, invocation);
      try {
        const value = await bytesOf(args.value, invocation);
        const ttl = flight.ttlMs + flight.staleMs;
        const version = store(flight.key, value, ttl);
        end(flight, { value: { value, version, ttlRemainingMs: ttl } });
        return { version };
      } catch (error) {
        end(flight, { error: error as Error });
        throw error;
      }
    },
    "cache.flight.fail": (args, invocation) => {
      const flight = owned(args.flight, invocation);
      const code = typeof args.code === "string" ? ` (${args.code})` : "";
      end(flight, {
        error: new FakeHostCallError(
          "SB_CACHE_LOADER_FAILED",
          502,
          `the loader for cache key "${flight.key}" failed: ${String(args.message).slice(0, 500)}${code}`,
        ),
      });
      return null;
    },
  };

  return {
    ops: OPS,
    handles: (op) => (OPS as readonly string[]).includes(op),
    async call(op, args, invocation = 0) {
      const handler = handlers[op as (typeof OPS)[number]];
      if (!handler)
        throw new FakeHostCallError("SB_HOST_UNKNOWN_HOST_CALL", 500, `there is no host call ${op}`);
      if (typeof args !== "object" || args === null) {
        throw new FakeHostCallError("SB_CACHE_BAD_VALUE", 400, `${op} takes an object of arguments`);
      }
      return handler(args as Record<string, unknown>, invocation);
    },
    invocationEnded(invocation) {
      for (const flight of [...tokens.values()]) {
        if (flight.owner !== invocation) continue;
        end(flight, {
          error: new FakeHostCallError(
            "SB_CACHE_FLIGHT_ABANDONED",
            503,
            `the invocation loading cache key "${flight.key}" ended without storing a value`,
          ),
        });
      }
    },
    get size() {
      let count = 0;
      for (const key of [...entries.keys()]) if (live(key)) count++;
      return count;
    },
    get flights() {
      return tokens.size;
    },
    clear() {
      entries.clear();
    },
  };
}

function into(value: unknown): WireCacheInto {
  return value === "bytes" ? "bytes" : "data";
}

function checkKey(key: unknown, maxKeyBytes: number): string {
  if (typeof key !== "string" || key.length === 0) {
    throw new FakeHostCallError("SB_CACHE_BAD_KEY", 400, "a cache key must be a non-empty string");
  }
  const bytes = encoder.encode(key).byteLength;
  if (bytes > maxKeyBytes) {
    throw new FakeHostCallError(
      "SB_CACHE_BAD_KEY",
      400,
      `a cache key of ${bytes} bytes is above the limit of ${maxKeyBytes} bytes`,
    );
  }
  return key;
}

function resolveTtl(ttlMs: unknown, defaultTtlMs: number): number {
  if (ttlMs === undefined) return defaultTtlMs;
  if (typeof ttlMs !== "number" || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new FakeHostCallError(
      "SB_CACHE_BAD_TTL",
      400,
      `ttl must be a number of milliseconds above 0, not ${String(ttlMs)}`,
    );
  }
  return Math.ceil(ttlMs);
}

function checkStale(ms: unknown): number {
  if (ms === undefined || ms === 0) return 0;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
    throw new FakeHostCallError(
      "SB_CACHE_BAD_TTL",
      400,
      `staleWhileRevalidateMs must be a number of milliseconds >= 0, not ${String(ms)}`,
    );
  }
  return Math.ceil(ms);
}

async function conditionHolds(
  condition: WireCacheCondition,
  current: Entry | undefined,
  bytesOf: (ref: unknown) => Promise<Uint8Array>,
): Promise<boolean> {
  if (condition === "absent") return current === undefined;
  if (condition === "present") return current !== undefined;
  if (typeof condition === "object" && condition !== null) {
    if ("equal" in condition)
      return current !== undefined && same(current.value, await bytesOf(condition.equal));
    if ("notEqual" in condition) {
      return current === undefined || !same(current.value, await bytesOf(condition.notEqual));
    }
    if ("version" in condition && typeof condition.version === "string" && condition.version.length > 0) {
      return current !== undefined && current.version === condition.version;
    }
  }
  throw new FakeHostCallError(
    "SB_CACHE_BAD_CONDITION",
    400,
    `a setIf condition is "absent", "present", {equal}, {notEqual} or {version}, not ${JSON.stringify(condition)}`,
  );
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let index = 0; index < a.byteLength; index++) if (a[index] !== b[index]) return false;
  return true;
}
