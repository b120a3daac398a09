import type { LoadedComponent, ModuleConfig } from "../config/model.js";
import { type Logger, silentLogger } from "../dispatch/logger.js";
import { ConfigErrors } from "../errors/config-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { Cache } from "./cache.js";
import {
  MEMORY_CACHE_KIND,
  type MemoryCacheSpec,
  memoryCacheSpec,
  REDIS_CACHE_KIND,
  type RedisCacheSpec,
} from "./cache-kinds.js";
import type { CacheObserver } from "./cache-observer.js";
import { MemoryCacheBackend } from "./memory-backend.js";
import { RedisCacheBackend } from "./redis-backend.js";

export interface CreateCacheOptions {
  readonly logger?: Logger;
  /** Told of every lookup (metrics). */
  readonly observer?: CacheObserver;
}

/**
 * The runtime's cache from module configuration: the one `io.switchboard.cache.v1/*`
 * component, or an in-memory cache with default settings when there is none (so a fresh
 * machine needs nothing). Two cache components are a configuration error.
 */
export async function createCacheFromConfig(
  config: Pick<ModuleConfig, "components">,
  options: CreateCacheOptions = {},
): Promise<Cache> {
  const components = config.components.filter(
    (component) => component.kind === MEMORY_CACHE_KIND || component.kind === REDIS_CACHE_KIND,
  );
  const [first, second] = components;
  if (second) {
    throw new SwitchboardError(
      ConfigErrors.INVALID,
      `${where(second)} a second cache component; the first is at ${where(first!)}`,
    );
  }
  if (first?.kind === REDIS_CACHE_KIND) return createRedisCache(first.spec as RedisCacheSpec, options);
  return createMemoryCache(
    (first?.spec as MemoryCacheSpec | undefined) ?? memoryCacheSpec.parse({}),
    options,
  );
}

export function createMemoryCache(spec: MemoryCacheSpec, options: CreateCacheOptions = {}): Cache {
  const backend = new MemoryCacheBackend({ maxTotalBytes: spec.maxTotalBytes });
  return new Cache(backend, {
    application: spec.application,
    defaultTtlMs: spec.defaultTtl,
    maxValueBytes: spec.maxValueBytes,
    maxKeyBytes: spec.maxKeyBytes,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
  });
}

/**
 * A Redis-backed cache. Waits up to the connect timeout for Redis; if it is not there the
 * runtime still starts, cache calls fail with SB_CACHE_UNAVAILABLE, and the client keeps
 * reconnecting.
 */
export async function createRedisCache(
  spec: RedisCacheSpec,
  options: CreateCacheOptions = {},
): Promise<Cache> {
  const logger = options.logger ?? silentLogger;
  const backend = new RedisCacheBackend({
    url: spec.url,
    namespace: spec.keyPrefix,
    commandTimeoutMs: spec.commandTimeout,
    connectTimeoutMs: spec.connectTimeout,
    maxReconnectDelayMs: spec.maxReconnectDelay,
    logger,
  });
  if (!(await backend.waitUntilReady(spec.connectTimeout))) {
    logger.warn(
      { url: redactPassword(spec.url) },
      "cache: Redis is not reachable yet; cache calls fail with SB_CACHE_UNAVAILABLE until it is",
    );
  }
  return new Cache(backend, {
    application: spec.application,
    defaultTtlMs: spec.defaultTtl,
    maxValueBytes: spec.maxValueBytes,
    maxKeyBytes: spec.maxKeyBytes,
    logger,
    ...(options.observer ? { observer: options.observer } : {}),
  });
}

function where(component: LoadedComponent): string {
  return `${component.source.file}:${component.source.line}:${component.source.col}`;
}

function redactPassword(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
