import { type Logger, silentLogger } from "../dispatch/logger.js";
import { CacheErrors } from "../errors/cache-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { CacheBackend, CacheEntry, CacheVersion, SetCondition, SetIfResult } from "./cache-backend.js";
import type { CacheObserver } from "./cache-observer.js";
import { type CacheValue, valueBytes } from "./cache-value.js";
import { awaitLoadTurn, type LoadLock, type LoadTurn, tryLoadLock } from "./load-lock.js";
import { SingleFlight } from "./single-flight.js";
import { decodeJson, decodeText, encodeJson, type JsonValidator } from "./typed-values.js";

export interface CacheOptions {
  /** The scope of every key: two applications never see each other's entries. No '/'. */
  readonly application: string;
  /** TTL of writes that give none. */
  readonly defaultTtlMs: number;
  /** Largest value accepted; above it writes fail with SB_CACHE_VALUE_TOO_LARGE. */
  readonly maxValueBytes: number;
  /** Largest key (UTF-8 bytes) accepted; default 1024. */
  readonly maxKeyBytes?: number;
  /**
   * How long other instances wait for a getOrSet loader before one of them loads instead
   * (the TTL of the key's cluster-wide load lock); default 10 s.
   */
  readonly loaderDeadlineMs?: number;
  /** Where failed background refreshes are reported. */
  readonly logger?: Logger;
  /** Told of every lookup a caller makes (get, getEntry, getOrSet and the typed reads), once each. */
  readonly observer?: CacheObserver;
}

/**
 * When `setIf` writes: `"absent"`, `"present"`, `{ equal }` (the current bytes equal these),
 * `{ notEqual }` (absent, or the current bytes differ) or `{ version }` (compare-and-swap on
 * the version `getEntry` returned).
 */
export type CacheCondition =
  | "absent"
  | "present"
  | { readonly equal: Uint8Array | string }
  | { readonly notEqual: Uint8Array | string }
  | { readonly version: CacheVersion };

export interface GetOrSetOptions {
  /**
   * Keep an entry this many ms past its TTL and, in that window, answer with the stale value
   * at once while one refresh runs in the background. Default 0 (no stale answers).
   */
  readonly staleWhileRevalidateMs?: number;
  /**
   * How long callers elsewhere wait for this loader: the key's load lock expires then and
   * another instance may load. Default: the cache's `loaderDeadlineMs` (10 s).
   */
  readonly loaderDeadlineMs?: number;
}

export interface GetOrSetJsonOptions<T> extends GetOrSetOptions {
  readonly validate?: JsonValidator<T>;
}

export type CacheLoader = () => CacheValue | Promise<CacheValue>;

const DEFAULT_MAX_KEY_BYTES = 1024;
const DEFAULT_LOADER_DEADLINE_MS = 10_000;
/** Far beyond any cache use, and well inside what Redis (PX) and lru-cache accept. */
const MAX_TTL_MS = 10 * 365 * 24 * 3600 * 1000;

/**
 * The cache every function gets: a scope (the application) over a backend, with default
 * TTLs, size limits, typed reads and single-flight `getOrSet`. Values returned are copies
 * the caller owns.
 */
export class Cache {
  readonly application: string;
  readonly defaultTtlMs: number;
  readonly maxValueBytes: number;
  readonly maxKeyBytes: number;
  readonly loaderDeadlineMs: number;
  private readonly prefix: string;
  private readonly flights = new SingleFlight<Uint8Array>();
  private readonly logger: Logger;
  private readonly observer: CacheObserver | undefined;
  private closed = false;

  /**
   * @param ownsBackend whether close() closes the backend too (false for the views
   *   forApplication() returns).
   */
  constructor(
    private readonly backend: CacheBackend,
    options: CacheOptions,
    private readonly ownsBackend = true,
  ) {
    if (typeof options.application !== "string" || !/^[^/]+$/.test(options.application)) {
      throw new SwitchboardError(
        CacheErrors.BAD_KEY,
        `a cache application must be a non-empty name without '/', not ${JSON.stringify(options.application)}`,
      );
    }
    this.application = options.application;
    this.prefix = `${options.application}/`;
    this.defaultTtlMs = checkTtl(options.defaultTtlMs, "defaultTtl");
    this.maxValueBytes = options.maxValueBytes;
    this.maxKeyBytes = options.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
    this.loaderDeadlineMs = checkTtl(
      options.loaderDeadlineMs ?? DEFAULT_LOADER_DEADLINE_MS,
      "loaderDeadline",
    );
    this.observer = options.observer;
    this.logger = (options.logger ?? silentLogger).child({
      cache: backend.kind,
      application: this.application,
    });
  }

  /** `memory` or `redis`. */
  get backendKind(): string {
    return this.backend.kind;
  }

  /** Whether the backend answers right now (false while Redis is away); for readiness. */
  get reachable(): boolean {
    return this.backend.reachable;
  }

  /** A cache over the same backend scoped to another application; its close() leaves the backend open. */
  forApplication(application: string): Cache {
    return new Cache(
      this.backend,
      {
        application,
        defaultTtlMs: this.defaultTtlMs,
        maxValueBytes: this.maxValueBytes,
        maxKeyBytes: this.maxKeyBytes,
        loaderDeadlineMs: this.loaderDeadlineMs,
        logger: this.logger,
        ...(this.observer ? { observer: this.observer } : {}),
      },
      false,
    );
  }

  /** The bytes under `key`, or undefined on a miss. */
  get(key: string): Promise<Uint8Array | undefined> {
    // then() rather than async/await: one promise fewer on the hottest path.
    let scoped: string;
    try {
      scoped = this.scope(key);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.backend.get(scoped).then(this.observer ? this.countedValue : entryValue);
  }

  /** The value under `key` as UTF-8 text (SB_CACHE_DECODE_FAILED if it is not). */
  async getString(key: string): Promise<string | undefined> {
    const value = await this.get(key);
    return value === undefined ? undefined : decodeText(value, key);
  }

  /** The value under `key` parsed as JSON and, given a validator, checked by it. */
  async getJson<T = unknown>(key: string, validate?: JsonValidator<T>): Promise<T | undefined> {
    const value = await this.get(key);
    return value === undefined ? undefined : decodeJson(value, key, validate);
  }

  /** Value, version (for compare-and-swap) and remaining TTL, or undefined on a miss. */
  async getEntry(key: string): Promise<CacheEntry | undefined> {
    return this.counted(await this.backend.get(this.scope(key)));
  }

  /** Stores `value` for `ttlMs` (default: the configured TTL); returns the new version. */
  async set(key: string, value: CacheValue, ttlMs?: number): Promise<CacheVersion> {
    const scoped = this.scope(key);
    const ttl = this.resolveTtl(ttlMs);
    return this.backend.set(scoped, await valueBytes(value, this.maxValueBytes), ttl);
  }

  /** Stores `JSON.stringify(value)`. */
  async setJson(key: string, value: unknown, ttlMs?: number): Promise<CacheVersion> {
    return this.set(key, encodeJson(value, key), ttlMs);
  }

  /** Stores `value` only if `condition` holds at that moment, atomically. */
  async setIf(
    key: string,
    value: CacheValue,
    condition: CacheCondition,
    ttlMs?: number,
  ): Promise<SetIfResult> {
    const scoped = this.scope(key);
    const ttl = this.resolveTtl(ttlMs);
    const backendCondition = await this.toBackendCondition(condition);
    return this.backend.setIf(scoped, await valueBytes(value, this.maxValueBytes), ttl, backendCondition);
  }

  /** Removes `key`; true when a live entry was removed. */
  async delete(key: string): Promise<boolean> {
    return this.backend.delete(this.scope(key));
  }

  /**
   * The value under `key`; on a miss, `loader()`'s value, stored for `ttlMs`. Concurrent
   * callers for one key share one loader run: in this process through an in-memory flight,
   * across instances sharing the backend through the key's load lock. With
   * `staleWhileRevalidateMs`, an entry past its TTL but within that window is answered at
   * once while one background refresh (cluster-wide) replaces it. A loader error reaches
   * every caller in this process waiting on that run and stores nothing; waiters in other
   * instances then take the lock and load themselves.
   */
  async getOrSet(
    key: string,
    ttlMs: number | undefined,
    loader: CacheLoader,
    options: GetOrSetOptions = {},
  ): Promise<Uint8Array> {
    const scoped = this.scope(key);
    const ttl = this.resolveTtl(ttlMs);
    const staleMs = checkStaleWindow(options.staleWhileRevalidateMs);
    const deadlineMs =
      options.loaderDeadlineMs === undefined
        ? this.loaderDeadlineMs
        : checkTtl(options.loaderDeadlineMs, "loaderDeadlineMs");
    const entry = this.counted(await this.backend.get(scoped));
    if (entry) {
      if (staleMs > 0 && entry.ttlRemainingMs <= staleMs)
        this.refreshInBackground(scoped, ttl, staleMs, deadlineMs, loader, entry.value);
      return entry.value;
    }
    const loaded = await this.flights.run(scoped, () => this.load(scoped, ttl, staleMs, deadlineMs, loader));
    // Every waiter gets its own copy, so one caller changing or transferring it harms no other.
    return new Uint8Array(loaded);
  }

  /** getOrSet for JSON values; the loader returns the value, the result is parsed (and validated). */
  async getOrSetJson<T>(
    key: string,
    ttlMs: number | undefined,
    loader: () => T | Promise<T>,
    options: GetOrSetJsonOptions<T> = {},
  ): Promise<T> {
    const bytes = await this.getOrSet(key, ttlMs, async () => encodeJson(await loader(), key), options);
    return decodeJson(bytes, key, options.validate);
  }

  /**
   * Takes no new calls, waits up to `graceMs` for loaders and refreshes in flight, then closes
   * the backend (unless this is a view from forApplication()).
   */
  async close(graceMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([this.flights.settled(), grace]);
    clearTimeout(timer);
    if (this.ownsBackend) await this.backend.close();
  }

  /** Counts a read made on a caller's behalf; the cache's own re-reads (in load) are not counted. */
  private counted(entry: CacheEntry | undefined): CacheEntry | undefined {
    this.observer?.cacheLookup(this.backend.kind, entry !== undefined);
    return entry;
  }

  /** get()'s continuation, made once: a lookup allocates no closure for counting. */
  private readonly countedValue = (entry: CacheEntry | undefined): Uint8Array | undefined =>
    this.counted(entry)?.value;

  /**
   * For the function host, whose loaders run in workers across host calls: waits until the key
   * holds a fresh value or this caller holds its load lock (release it once the value is stored
   * or the load failed). `signal` ends the wait when the waiting invocation ends.
   */
  claimLoad(key: string, staleMs: number, lockTtlMs: number, signal?: AbortSignal): Promise<LoadTurn> {
    return awaitLoadTurn(this.backend, this.scope(key), {
      staleMs,
      lockTtlMs,
      maxWaitMs: 2 * lockTtlMs,
      ...(signal ? { signal } : {}),
      onReleaseError: this.onReleaseError,
    });
  }

  /** For the function host's stale refresh: the key's load lock, or undefined when another instance refreshes. */
  tryClaimRefresh(key: string, lockTtlMs: number): Promise<LoadLock | undefined> {
    return tryLoadLock(this.backend, this.scope(key), lockTtlMs, this.onReleaseError);
  }

  /** A miss: wait for the instance that holds the key's load lock, or take it and load. */
  private async load(
    scoped: string,
    ttl: number,
    staleMs: number,
    deadlineMs: number,
    loader: CacheLoader,
  ): Promise<Uint8Array> {
    const turn = await awaitLoadTurn(this.backend, scoped, {
      staleMs,
      lockTtlMs: deadlineMs,
      // Long enough to outlast a dead holder's lock and one more holder's load.
      maxWaitMs: 2 * deadlineMs,
      onReleaseError: this.onReleaseError,
    });
    if (turn.kind === "loaded") return turn.entry.value;
    try {
      return await this.loadAndStore(scoped, ttl, staleMs, loader);
    } finally {
      await turn.lock.release();
    }
  }

  private async loadAndStore(scoped: string, ttl: number, staleMs: number, loader: CacheLoader) {
    const bytes = await valueBytes(await loader(), this.maxValueBytes);
    await this.backend.set(scoped, bytes, ttl + staleMs);
    return bytes;
  }

  /** A stale hit: refresh unless another instance already is (it holds the lock); never waits. */
  private async refresh(
    scoped: string,
    ttl: number,
    staleMs: number,
    deadlineMs: number,
    loader: CacheLoader,
    stale: Uint8Array,
  ): Promise<Uint8Array> {
    const lock = await tryLoadLock(this.backend, scoped, deadlineMs, this.onReleaseError);
    if (!lock) return stale;
    try {
      // Another instance may have refreshed and released since this caller read the stale value.
      const current = await this.backend.get(scoped);
      if (current && current.ttlRemainingMs > staleMs) return current.value;
      return await this.loadAndStore(scoped, ttl, staleMs, loader);
    } finally {
      await lock.release();
    }
  }

  private readonly onReleaseError = (error: unknown): void => {
    this.logger.warn(
      { err: error instanceof Error ? error.message : String(error) },
      "cache could not release a getOrSet load lock; it expires by itself",
    );
  };

  private refreshInBackground(
    scoped: string,
    ttl: number,
    staleMs: number,
    deadlineMs: number,
    loader: CacheLoader,
    stale: Uint8Array,
  ): void {
    if (this.closed || this.flights.isRunning(scoped)) return;
    this.flights
      .run(scoped, () => this.refresh(scoped, ttl, staleMs, deadlineMs, loader, stale))
      .catch((error: unknown) => {
        this.logger.warn(
          { key: scoped, err: error instanceof Error ? error.message : String(error) },
          "cache refresh failed; the stale value stays until it expires",
        );
      });
  }

  private scope(key: string): string {
    if (this.closed) throw new SwitchboardError(CacheErrors.CLOSED, "the cache is closed");
    if (typeof key !== "string" || key.length === 0) {
      throw new SwitchboardError(CacheErrors.BAD_KEY, "a cache key must be a non-empty string");
    }
    // Cheap bound first: a UTF-16 code unit is at most 3 UTF-8 bytes.
    if (key.length * 3 > this.maxKeyBytes && Buffer.byteLength(key) > this.maxKeyBytes) {
      throw new SwitchboardError(
        CacheErrors.BAD_KEY,
        `a cache key of ${Buffer.byteLength(key)} bytes is above the limit of ${this.maxKeyBytes} bytes`,
        { maxKeyBytes: this.maxKeyBytes },
      );
    }
    return this.prefix + key;
  }

  private resolveTtl(ttlMs: number | undefined): number {
    return ttlMs === undefined ? this.defaultTtlMs : checkTtl(ttlMs, "ttl");
  }

  private async toBackendCondition(condition: CacheCondition): Promise<SetCondition> {
    if (condition === "absent" || condition === "present") return { kind: condition };
    if (typeof condition === "object" && condition !== null) {
      if ("equal" in condition) {
        return { kind: "equal", value: await valueBytes(condition.equal, this.maxValueBytes) };
      }
      if ("notEqual" in condition) {
        return { kind: "notEqual", value: await valueBytes(condition.notEqual, this.maxValueBytes) };
      }
      if ("version" in condition && typeof condition.version === "string" && condition.version.length > 0) {
        return { kind: "version", version: condition.version };
      }
    }
    throw new SwitchboardError(
      CacheErrors.BAD_CONDITION,
      `a setIf condition is "absent", "present", {equal}, {notEqual} or {version}, not ${JSON.stringify(condition)}`,
    );
  }
}

function entryValue(entry: CacheEntry | undefined): Uint8Array | undefined {
  return entry?.value;
}

/** TTLs are milliseconds with no minimum: any finite number above 0, rounded up to whole ms. */
export function checkTtl(ttlMs: unknown, name: string): number {
  if (typeof ttlMs !== "number" || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new SwitchboardError(
      CacheErrors.BAD_TTL,
      `${name} must be a number of milliseconds above 0, not ${String(ttlMs)}`,
    );
  }
  const whole = Math.ceil(ttlMs);
  if (whole > MAX_TTL_MS) {
    throw new SwitchboardError(
      CacheErrors.BAD_TTL,
      `${name} of ${ttlMs} ms is above the maximum of ${MAX_TTL_MS} ms (10 years)`,
    );
  }
  return whole;
}

export function checkStaleWindow(ms: unknown): number {
  if (ms === undefined || ms === 0) return 0;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
    throw new SwitchboardError(
      CacheErrors.BAD_TTL,
      `staleWhileRevalidateMs must be a number of milliseconds >= 0, not ${String(ms)}`,
    );
  }
  return Math.ceil(ms);
}
