import { LRUCache } from "lru-cache";
import { CacheErrors } from "../errors/cache-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { bytesEqual } from "./bytes.js";
import type { CacheBackend, CacheEntry, CacheVersion, SetCondition, SetIfResult } from "./cache-backend.js";

export interface MemoryBackendOptions {
  /** Bound on the bytes held (values, keys and a fixed per-entry overhead); LRU entries go first. */
  readonly maxTotalBytes: number;
}

interface StoredEntry {
  readonly value: Uint8Array;
  readonly version: CacheVersion;
}

/** What one entry costs beyond its value: the key (UTF-16) and lru-cache's bookkeeping, roughly. */
const ENTRY_OVERHEAD_BYTES = 96;

/**
 * The default backend: one process's memory, bounded by total bytes, least recently used
 * entries evicted first. Expired entries are dropped when next touched (or evicted), never
 * by timers. Everything runs synchronously inside each call, so conditional writes are
 * atomic without locks.
 */
export class MemoryCacheBackend implements CacheBackend {
  readonly kind = "memory";
  private readonly entries: LRUCache<string, StoredEntry>;
  private readonly maxTotalBytes: number;
  private readonly status: LRUCache.Status<string, StoredEntry> = {};
  private nextVersion = 0;
  private closed = false;
  /** getOrSet load locks; an expired one is replaced when next taken, never swept. */
  private readonly locks = new Map<string, { readonly token: string; readonly expiresAt: number }>();

  constructor(options: MemoryBackendOptions) {
    this.maxTotalBytes = options.maxTotalBytes;
    this.entries = new LRUCache<string, StoredEntry>({
      maxSize: options.maxTotalBytes,
      sizeCalculation: (entry, key) => entrySize(key, entry.value),
      ttlAutopurge: false,
      allowStale: false,
      updateAgeOnGet: false,
    });
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    this.assertOpen();
    // One status object for every get: get() is synchronous, so no two calls share it at once.
    const status = this.status;
    const entry = this.entries.get(key, { status });
    if (!entry) return undefined;
    return {
      value: new Uint8Array(entry.value),
      version: entry.version,
      ttlRemainingMs: Math.max(1, Math.ceil(status.remainingTTL ?? 1)),
    };
  }

  async set(key: string, value: Uint8Array, ttlMs: number): Promise<CacheVersion> {
    this.assertOpen();
    return this.store(key, value, ttlMs);
  }

  async setIf(key: string, value: Uint8Array, ttlMs: number, condition: SetCondition): Promise<SetIfResult> {
    this.assertOpen();
    // peek: a failed condition check must not count as a use for LRU ordering.
    const current = this.entries.peek(key);
    if (!holds(condition, current)) return { stored: false };
    return { stored: true, version: this.store(key, value, ttlMs) };
  }

  async delete(key: string): Promise<boolean> {
    this.assertOpen();
    // has() is false for an expired entry, so deleting one reports false like Redis does.
    const live = this.entries.has(key);
    this.entries.delete(key);
    return live;
  }

  async tryLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    this.assertOpen();
    const now = Date.now();
    const held = this.locks.get(key);
    if (held && held.expiresAt > now) return false;
    this.locks.set(key, { token, expiresAt: now + ttlMs });
    return true;
  }

  async unlock(key: string, token: string): Promise<void> {
    if (this.locks.get(key)?.token === token) this.locks.delete(key);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.entries.clear();
    this.locks.clear();
  }

  /** This process's memory is always there. */
  get reachable(): boolean {
    return true;
  }

  /** Entries held right now, expired ones included until touched (tests, metrics). */
  get size(): number {
    return this.entries.size;
  }

  private store(key: string, value: Uint8Array, ttlMs: number): CacheVersion {
    // lru-cache would drop an entry larger than the whole cache silently; say so instead.
    if (entrySize(key, value) > this.maxTotalBytes) {
      throw new SwitchboardError(
        CacheErrors.VALUE_TOO_LARGE,
        `a value of ${value.byteLength} bytes does not fit in a memory cache of ${this.maxTotalBytes} bytes`,
        { bytes: value.byteLength, maxTotalBytes: this.maxTotalBytes },
      );
    }
    const version = (++this.nextVersion).toString(36);
    // A copy, so the caller may reuse or transfer its buffer afterwards.
    this.entries.set(key, { value: new Uint8Array(value), version }, { ttl: ttlMs });
    return version;
  }

  private assertOpen(): void {
    if (this.closed) throw new SwitchboardError(CacheErrors.CLOSED, "the cache is closed");
  }
}

function entrySize(key: string, value: Uint8Array): number {
  return value.byteLength + key.length * 2 + ENTRY_OVERHEAD_BYTES;
}

function holds(condition: SetCondition, current: StoredEntry | undefined): boolean {
  switch (condition.kind) {
    case "absent":
      return current === undefined;
    case "present":
      return current !== undefined;
    case "equal":
      return current !== undefined && bytesEqual(current.value, condition.value);
    case "notEqual":
      return current === undefined || !bytesEqual(current.value, condition.value);
    case "version":
      return current !== undefined && current.version === condition.version;
  }
}
