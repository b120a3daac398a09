/**
 * What the cache tells metrics: one lookup a caller made and whether it found a live entry.
 * Defined here so the cache does not depend on ops; the ops Metrics implements it. Called on
 * every read: implementations must be cheap and must not throw.
 */
export interface CacheObserver {
  cacheLookup(backend: string, hit: boolean): void;
}
