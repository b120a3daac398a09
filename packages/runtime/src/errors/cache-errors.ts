import type { ErrorDefinition } from "./switchboard-error.js";

/** Errors of the cache capability (`cache.get/set/setIf/delete/getOrSet`). */
export const CacheErrors = {
  /** The backend cannot be reached (Redis down, reconnecting or too slow); nothing was changed. */
  UNAVAILABLE: { code: "SB_CACHE_UNAVAILABLE", status: 503 },
  /** The backend answered with an error (e.g. Redis out of memory, or a key of a foreign type). */
  BACKEND_ERROR: { code: "SB_CACHE_BACKEND_ERROR", status: 502 },
  /** A value above the configured maxValueBytes; nothing was stored. */
  VALUE_TOO_LARGE: { code: "SB_CACHE_VALUE_TOO_LARGE", status: 413 },
  /** A key that is not a non-empty string within the key size limit. */
  BAD_KEY: { code: "SB_CACHE_BAD_KEY", status: 400 },
  /** A TTL that is not a number of milliseconds above 0 and up to 10 years. */
  BAD_TTL: { code: "SB_CACHE_BAD_TTL", status: 400 },
  /** A value that is not bytes, a string, a byte source or (for JSON writes) serialisable. */
  BAD_VALUE: { code: "SB_CACHE_BAD_VALUE", status: 400 },
  /** A setIf condition other than absent, present, equal, notEqual or version. */
  BAD_CONDITION: { code: "SB_CACHE_BAD_CONDITION", status: 400 },
  /** A typed read found bytes that are not UTF-8 text, not JSON, or rejected by the validator. */
  DECODE_FAILED: { code: "SB_CACHE_DECODE_FAILED", status: 500 },
  /** The cache was closed (the runtime is stopping). */
  CLOSED: { code: "SB_CACHE_CLOSED", status: 503 },
  /** A getOrSet waited on another caller's loader, and that loader threw; nothing was stored. */
  LOADER_FAILED: { code: "SB_CACHE_LOADER_FAILED", status: 502 },
  /**
   * A getOrSet waited on a loader whose invocation ended (or failed) without finishing it, or
   * waited twice its loader deadline while other instances held the key's load lock.
   */
  FLIGHT_ABANDONED: { code: "SB_CACHE_FLIGHT_ABANDONED", status: 503 },
  /** A host call named a getOrSet flight that is not running or belongs to another invocation. */
  UNKNOWN_FLIGHT: { code: "SB_CACHE_UNKNOWN_FLIGHT", status: 400 },
} as const satisfies Record<string, ErrorDefinition>;
