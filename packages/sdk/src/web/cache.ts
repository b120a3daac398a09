import { SdkError, SdkErrors } from "../errors.js";
import type {
  CacheCondition,
  CacheEntry,
  CacheLoader,
  CacheValueInput,
  GetOrSetOptions,
  SetIfResult,
} from "./cache-types.js";
import type { WireCacheCondition, WireCacheEntry, WireCacheInto, WireFlightBegun } from "./cache-wire.js";
import { Data, type DataRef } from "./data.js";
import { hostBridge } from "./host-bridge.js";
import type { InferOutput, StandardIssue, StandardSchemaV1 } from "./standard-schema.js";

const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The host's cache (memory, or Redis when configured), scoped to the module's application.
 * Values stay in the host as Data unless read: `get` hands back a Data a function can
 * relay as a response body, and `set` with a Data from `http.invoke` stores an upstream
 * body without it entering the function. Failures (Redis down: SB_CACHE_UNAVAILABLE, a
 * value too large: SB_CACHE_VALUE_TOO_LARGE, ...) are errors with that `code` to catch.
 */
export const cache = {
  /** The value under `key` as a host-held Data, or undefined on a miss. */
  async get(key: string): Promise<Data | undefined> {
    const entry = await readEntry(key, "data");
    return entry === undefined ? undefined : Data.fromRef(entry.value);
  },

  /** The value under `key` as bytes brought into the function. */
  async getBytes(key: string): Promise<Uint8Array | undefined> {
    const entry = await readEntry(key, "bytes");
    return entry === undefined ? undefined : bytesOf(entry.value);
  },

  /** The value under `key` as UTF-8 text (SB_SDK_CACHE_DECODE_FAILED when it is not). */
  async getString(key: string): Promise<string | undefined> {
    const bytes = await cache.getBytes(key);
    return bytes === undefined ? undefined : decodeText(bytes, key);
  },

  /** The value under `key` parsed as JSON and, given a schema (zod, valibot, ...), validated. */
  getJson: getJson as {
    <S extends StandardSchemaV1>(key: string, schema: S): Promise<InferOutput<S> | undefined>;
    <T = unknown>(key: string): Promise<T | undefined>;
  },

  /** Value (as Data), version and remaining TTL, or undefined on a miss. */
  async getEntry(key: string): Promise<CacheEntry | undefined> {
    const entry = await readEntry(key, "data");
    if (!entry) return undefined;
    return { value: Data.fromRef(entry.value), version: entry.version, ttlRemainingMs: entry.ttlRemainingMs };
  },

  /** Stores `value` for `ttlMs` (default: the configured TTL); returns the new version. */
  async set(key: string, value: CacheValueInput, ttlMs?: number): Promise<string> {
    const reply = (await call("cache.set", { key, value: refOf(value), ...ttl(ttlMs) })) as {
      version: string;
    };
    return reply.version;
  },

  /** Stores `JSON.stringify(value)`. */
  async setJson(key: string, value: unknown, ttlMs?: number): Promise<string> {
    return cache.set(key, encodeJson(value), ttlMs);
  },

  /** Stores `value` only if `condition` holds at that moment, atomically (also on Redis). */
  async setIf(
    key: string,
    value: CacheValueInput,
    condition: CacheCondition,
    ttlMs?: number,
  ): Promise<SetIfResult> {
    return (await call("cache.setIf", {
      key,
      value: refOf(value),
      condition: wireCondition(condition),
      ...ttl(ttlMs),
    })) as SetIfResult;
  },

  /** Removes `key`; true when a live entry was removed. */
  async delete(key: string): Promise<boolean> {
    return ((await call("cache.delete", { key })) as { deleted: boolean }).deleted;
  },

  /**
   * The value under `key`; on a miss, `loader()`'s value, stored for `ttlMs`. Concurrent
   * callers for one key, in every worker of the host, share one loader run: the others wait
   * for its value, or fail with SB_CACHE_LOADER_FAILED when it throws. The loader may return
   * an upstream response's body: it is stored and answered without entering the function.
   */
  async getOrSet(
    key: string,
    ttlMs: number | undefined,
    loader: CacheLoader,
    options: GetOrSetOptions = {},
  ): Promise<Data> {
    const begun = await begin(key, ttlMs, options, "data");
    if (begun.state !== "load") return Data.fromRef(begun.entry.value);
    const ref = await load(begun.flight, loader);
    return Data.fromRef(ref);
  },

  /** getOrSet for JSON: the loader returns a value; the result is parsed and, given a schema, validated. */
  getOrSetJson: getOrSetJson as {
    <S extends StandardSchemaV1>(
      key: string,
      ttlMs: number | undefined,
      loader: () => unknown,
      options: GetOrSetOptions & { readonly schema: S },
    ): Promise<InferOutput<S>>;
    <T>(
      key: string,
      ttlMs: number | undefined,
      loader: () => T | Promise<T>,
      options?: GetOrSetOptions,
    ): Promise<T>;
  },
};

async function getJson(key: string, schema?: StandardSchemaV1): Promise<unknown> {
  const bytes = await cache.getBytes(key);
  return bytes === undefined ? undefined : decodeJson(bytes, key, schema);
}

async function getOrSetJson(
  key: string,
  ttlMs: number | undefined,
  loader: () => unknown,
  options: GetOrSetOptions & { readonly schema?: StandardSchemaV1 } = {},
): Promise<unknown> {
  const begun = await begin(key, ttlMs, options, "bytes");
  if (begun.state !== "load") return decodeJson(bytesOf(begun.entry.value), key, options.schema);
  const ref = await load(begun.flight, async () => encodeJson(await loader()));
  // The loaded value is checked like a cached one, so both paths give the same type.
  return decodeJson(bytesOf(ref), key, options.schema);
}

async function begin(
  key: string,
  ttlMs: number | undefined,
  options: GetOrSetOptions,
  into: WireCacheInto,
): Promise<WireFlightBegun> {
  const staleWhileRevalidateMs = options.staleWhileRevalidateMs;
  return (await call("cache.flight.begin", {
    key,
    into,
    ...ttl(ttlMs),
    ...(staleWhileRevalidateMs !== undefined ? { staleWhileRevalidateMs } : {}),
  })) as WireFlightBegun;
}

/** Runs the loader for a flight this caller owns and reports how it went, whatever happens. */
async function load(flight: number, loader: CacheLoader): Promise<DataRef> {
  let ref: DataRef;
  try {
    ref = refOf(await loader());
  } catch (error) {
    const { message, code } = error as { message?: unknown; code?: unknown };
    await call("cache.flight.fail", {
      flight,
      message: typeof message === "string" ? message : String(error),
      ...(typeof code === "string" ? { code } : {}),
    }).catch(() => {});
    throw error;
  }
  await call("cache.flight.complete", { flight, value: ref });
  return ref;
}

async function readEntry(key: string, into: WireCacheInto): Promise<WireCacheEntry | undefined> {
  const entry = (await call("cache.get", { key, into })) as WireCacheEntry | null;
  return entry ?? undefined;
}

function call(op: string, args: unknown): Promise<unknown> {
  return hostBridge(`${op}()`).call(op, args);
}

function ttl(ttlMs: number | undefined): { ttlMs?: number } {
  return ttlMs === undefined ? {} : { ttlMs };
}

function refOf(value: CacheValueInput): DataRef {
  if (Data.isData(value)) return Data.refOf(value);
  if (value instanceof Uint8Array) return { bytes: value };
  if (typeof value === "string") return { bytes: encoder.encode(value) };
  throw new SdkError(
    SdkErrors.INVALID_VALUE,
    `a cache value is a Data, a Uint8Array or a string, not ${value === null ? "null" : typeof value}`,
  );
}

function wireCondition(condition: CacheCondition): WireCacheCondition {
  if (typeof condition === "object" && condition !== null) {
    if ("equal" in condition) return { equal: refOf(condition.equal) };
    if ("notEqual" in condition) return { notEqual: refOf(condition.notEqual) };
  }
  return condition as WireCacheCondition;
}

/** A read asked `into: "bytes"`, so the value is here (a host answering with an id is a bug). */
function bytesOf(ref: DataRef): Uint8Array {
  if ("bytes" in ref) return ref.bytes;
  throw new SdkError(SdkErrors.CACHE_DECODE_FAILED, "the host answered a byte read with a Data id");
}

function decodeText(bytes: Uint8Array, key: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new SdkError(SdkErrors.CACHE_DECODE_FAILED, `the cached value of "${key}" is not UTF-8 text`);
  }
}

async function decodeJson(bytes: Uint8Array, key: string, schema?: StandardSchemaV1): Promise<unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decodeText(bytes, key));
  } catch (error) {
    if (error instanceof SdkError) throw error;
    throw new SdkError(SdkErrors.CACHE_DECODE_FAILED, `the cached value of "${key}" is not JSON`);
  }
  if (!schema) return value;
  const result = await schema["~standard"].validate(value);
  if (result.issues) {
    throw new SdkError(
      SdkErrors.CACHE_DECODE_FAILED,
      `the cached value of "${key}" does not match the schema: ${result.issues.map(formatIssue).join("; ")}`,
    );
  }
  return result.value;
}

function encodeJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new SdkError(
      SdkErrors.INVALID_VALUE,
      `the value cannot be cached as JSON: ${(error as Error).message}`,
    );
  }
  if (text === undefined) throw new SdkError(SdkErrors.INVALID_VALUE, `a ${typeof value} has no JSON form`);
  return text;
}

function formatIssue(issue: StandardIssue): string {
  const path = (issue.path ?? [])
    .map((segment) => String(typeof segment === "object" ? segment.key : segment))
    .join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}
