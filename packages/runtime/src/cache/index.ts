/** The cache capability: a scoped Cache over an in-memory or Redis backend. */
export {
  Cache,
  type CacheCondition,
  type CacheLoader,
  type CacheOptions,
  type GetOrSetJsonOptions,
  type GetOrSetOptions,
} from "./cache.js";
export type { CacheBackend, CacheEntry, CacheVersion, SetCondition, SetIfResult } from "./cache-backend.js";
export {
  MEMORY_CACHE_KIND,
  type MemoryCacheSpec,
  memoryCacheSpec,
  REDIS_CACHE_KIND,
  type RedisCacheSpec,
  redisCacheSpec,
  registerCacheKinds,
} from "./cache-kinds.js";
export type { CacheObserver } from "./cache-observer.js";
export type { ByteSource, CacheValue } from "./cache-value.js";
export {
  type CreateCacheOptions,
  createCacheFromConfig,
  createMemoryCache,
  createRedisCache,
} from "./create-cache.js";
export { type MemoryBackendOptions, MemoryCacheBackend } from "./memory-backend.js";
export { type RedisBackendOptions, RedisCacheBackend } from "./redis-backend.js";
export type { JsonValidator } from "./typed-values.js";
