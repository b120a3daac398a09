import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { type Logger, silentLogger } from "../dispatch/logger.js";
import { CacheErrors } from "../errors/cache-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { asBuffer } from "./bytes.js";
import type { CacheBackend, CacheEntry, CacheVersion, SetCondition, SetIfResult } from "./cache-backend.js";
import { toCacheFailure } from "./redis-failure.js";
import { SET_IF, UNLOCK } from "./redis-scripts.js";

export interface RedisBackendOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://...` for TLS. */
  readonly url: string;
  /** Prepended to every key in Redis, so the cache shares a Redis with other data safely. */
  readonly namespace: string;
  /**
   * How long Redis may stay silent while calls wait for replies. Then the connection is
   * taken as dead: the waiting calls fail with SB_CACHE_UNAVAILABLE and the client reconnects.
   */
  readonly commandTimeoutMs: number;
  /** Bound on one TCP connect attempt. */
  readonly connectTimeoutMs: number;
  /** Cap on the delay between reconnect attempts while Redis is away. */
  readonly maxReconnectDelayMs: number;
  readonly logger?: Logger;
}

/** The scripts defineCommand adds; the Buffer variants keep values binary. */
interface ScriptedRedis extends Redis {
  sbCacheSetIf(
    key: string,
    mode: string,
    operand: Buffer | string,
    packed: Buffer,
    ttlMs: number,
  ): Promise<number>;
  sbCacheUnlock(key: string, token: string): Promise<number>;
}

/**
 * Between the namespace and a load lock's key. Every entry's key starts with its application,
 * which is never empty and never contains '/', so no entry can be a lock.
 */
const LOCK_INFIX = "/lock/";

const SEPARATOR = 0x3a; // ':'

/**
 * The shared backend: one ioredis connection, auto-pipelined. Calls never wait for a
 * reconnect: with the offline queue off and no per-command retries, a call made while Redis
 * is away fails at once, and one in flight when the connection drops fails when it closes
 * (or at the command timeout if the server hangs). The client keeps reconnecting in the
 * background; connection errors are logged once per outage and never thrown at the process.
 */
export class RedisCacheBackend implements CacheBackend {
  readonly kind = "redis";
  private readonly redis: ScriptedRedis;
  private readonly namespace: string;
  private readonly logger: Logger;
  /** Unique to this client, so versions written by two processes never coincide. */
  private readonly versionPrefix = randomBytes(8).toString("base64url");
  private nextVersion = 0;
  /** Flips once per outage and once per recovery, so each logs one line, not one per retry. */
  private isReachable = false;
  private closed = false;

  constructor(options: RedisBackendOptions) {
    this.namespace = options.namespace;
    this.logger = (options.logger ?? silentLogger).child({ cache: "redis" });
    const maxDelay = options.maxReconnectDelayMs;
    this.redis = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // One timer per connection, re-armed as replies arrive, rather than ioredis's
      // commandTimeout (a timer per command, which costs a fifth of raw GET throughput).
      socketTimeout: options.commandTimeoutMs,
      connectTimeout: options.connectTimeoutMs,
      enableAutoPipelining: true,
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxDelay),
    }) as ScriptedRedis;
    this.redis.defineCommand("sbCacheSetIf", { numberOfKeys: 1, lua: SET_IF });
    this.redis.defineCommand("sbCacheUnlock", { numberOfKeys: 1, lua: UNLOCK });
    this.redis.on("ready", () => this.markReachable());
    this.redis.on("error", (error: Error) => this.markUnreachable(error.message));
    // A clean server shutdown closes the connection without any error event: without this
    // the outage would go unlogged and readiness would not notice it.
    this.redis.on("close", () => this.markUnreachable("connection closed"));
  }

  /** Whether the connection is up right now (readiness); false while reconnecting. */
  get reachable(): boolean {
    return this.isReachable;
  }

  /** Resolves once connected, or false after `timeoutMs` (calls fail fast until connected). */
  async waitUntilReady(timeoutMs: number): Promise<boolean> {
    if (this.redis.status === "ready") return true;
    return new Promise<boolean>((resolve) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.redis.off("ready", onReady);
        resolve(false);
      }, timeoutMs);
      this.redis.once("ready", onReady);
    });
  }

  get(key: string): Promise<CacheEntry | undefined> {
    if (this.closed) return Promise.reject(closedError());
    // A plain GET: the expiry travels in the value, so a read costs what a raw GET costs.
    // then() rather than async/await: one promise fewer on the hottest path.
    return this.redis.getBuffer(this.namespace + key).then(unpackReply, failGet);
  }

  async set(key: string, value: Uint8Array, ttlMs: number): Promise<CacheVersion> {
    this.assertOpen();
    const version = this.newVersion();
    try {
      await this.redis.set(this.namespace + key, pack(version, value, ttlMs), "PX", ttlMs);
    } catch (error) {
      throw toCacheFailure(error, "set");
    }
    return version;
  }

  async setIf(key: string, value: Uint8Array, ttlMs: number, condition: SetCondition): Promise<SetIfResult> {
    this.assertOpen();
    const version = this.newVersion();
    const packed = pack(version, value, ttlMs);
    const redisKey = this.namespace + key;
    let stored: boolean;
    try {
      switch (condition.kind) {
        case "absent":
          stored = (await this.redis.set(redisKey, packed, "PX", ttlMs, "NX")) === "OK";
          break;
        case "present":
          stored = (await this.redis.set(redisKey, packed, "PX", ttlMs, "XX")) === "OK";
          break;
        case "equal":
        case "notEqual":
          stored =
            (await this.redis.sbCacheSetIf(
              redisKey,
              condition.kind,
              asBuffer(condition.value),
              packed,
              ttlMs,
            )) === 1;
          break;
        case "version":
          stored =
            (await this.redis.sbCacheSetIf(redisKey, "version", condition.version, packed, ttlMs)) === 1;
          break;
      }
    } catch (error) {
      throw toCacheFailure(error, "setIf");
    }
    return stored ? { stored: true, version } : { stored: false };
  }

  async delete(key: string): Promise<boolean> {
    this.assertOpen();
    try {
      return (await this.redis.del(this.namespace + key)) > 0;
    } catch (error) {
      throw toCacheFailure(error, "delete");
    }
  }

  async tryLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    this.assertOpen();
    try {
      return (await this.redis.set(this.namespace + LOCK_INFIX + key, token, "PX", ttlMs, "NX")) === "OK";
    } catch (error) {
      throw toCacheFailure(error, "lock");
    }
  }

  async unlock(key: string, token: string): Promise<void> {
    this.assertOpen();
    try {
      await this.redis.sbCacheUnlock(this.namespace + LOCK_INFIX + key, token);
    } catch (error) {
      throw toCacheFailure(error, "unlock");
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.redis.status === "ready") {
      // QUIT lets replies already on the wire arrive; disconnect() below covers a hang.
      await this.redis.quit().catch(() => undefined);
    }
    this.redis.disconnect();
  }

  private markReachable(): void {
    if (this.isReachable) return;
    this.isReachable = true;
    this.logger.info({}, "cache connected to Redis");
  }

  private markUnreachable(reason: string): void {
    if (this.closed) return;
    if (!this.isReachable) {
      // Every reconnect attempt during an outage ends up here: debug only, not a flood.
      this.logger.debug({ err: reason }, "cache cannot reach Redis");
      return;
    }
    this.isReachable = false;
    this.logger.warn({ err: reason }, "cache lost Redis; calls fail until it is back");
  }

  private newVersion(): CacheVersion {
    return this.versionPrefix + (++this.nextVersion).toString(36);
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }
}

function unpackReply(packed: Buffer | null): CacheEntry | undefined {
  return packed ? unpack(packed) : undefined;
}

function failGet(error: unknown): never {
  throw toCacheFailure(error, "get");
}

function closedError(): SwitchboardError {
  return new SwitchboardError(CacheErrors.CLOSED, "the cache is closed");
}

function pack(version: CacheVersion, value: Uint8Array, ttlMs: number): Buffer {
  const header = Buffer.from(`${version}:${Date.now() + ttlMs}:`, "latin1");
  return Buffer.concat([header, value]);
}

/** Longest header unpack() scans: a version (~20 chars), a 13-digit time and two separators. */
const MAX_HEADER_BYTES = 64;

// A byte loop rather than Buffer.indexOf/toString/Number: on the hottest path those native
// calls cost more than the GET's own parsing.
function unpack(packed: Buffer): CacheEntry {
  const limit = Math.min(packed.length, MAX_HEADER_BYTES);
  let first = -1;
  for (let i = 0; i < limit; i++) {
    if (packed[i] === SEPARATOR) {
      first = i;
      break;
    }
  }
  let second = -1;
  let expiresAt = 0;
  for (let i = first + 1; first >= 0 && i < limit; i++) {
    const byte = packed[i]!;
    if (byte === SEPARATOR) {
      second = i;
      break;
    }
    if (byte < 0x30 || byte > 0x39) break;
    expiresAt = expiresAt * 10 + (byte - 0x30);
  }
  if (second <= first + 1) {
    throw new SwitchboardError(
      CacheErrors.BACKEND_ERROR,
      "the key holds a value not written by Switchboard's cache",
      { backend: "redis" },
    );
  }
  return {
    // A copy: the reply may be a view into ioredis's socket buffer.
    value: new Uint8Array(packed.subarray(second + 1)),
    version: packed.toString("latin1", 0, first),
    // Redis expires the key itself; this only reports how long is left, by the writer's clock.
    ttlRemainingMs: Math.max(1, expiresAt - Date.now()),
  };
}
