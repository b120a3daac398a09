import { ReplyError } from "ioredis";
import { CacheErrors } from "../errors/cache-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";

/** Reply errors that mean "the server cannot serve right now", not "the command is wrong". */
const TRANSIENT_REPLIES = ["LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN"];

/**
 * Turns whatever ioredis rejected with into a catalogued error. Anything that is not a reply
 * from the server (connection refused or closed, offline, command timeout, retries
 * exhausted) means Redis is unreachable right now: SB_CACHE_UNAVAILABLE, which a function
 * can treat as a miss.
 */
export function toCacheFailure(error: unknown, operation: string): SwitchboardError {
  if (error instanceof SwitchboardError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const isReply = error instanceof ReplyError;
  if (isReply && !TRANSIENT_REPLIES.some((prefix) => message.startsWith(prefix))) {
    return new SwitchboardError(
      CacheErrors.BACKEND_ERROR,
      `Redis rejected cache ${operation}: ${message}`,
      { operation, backend: "redis" },
      { cause: error },
    );
  }
  return new SwitchboardError(
    CacheErrors.UNAVAILABLE,
    `the Redis cache is unavailable (${operation}): ${message}`,
    { operation, backend: "redis" },
    { cause: error },
  );
}
