import type { SwitchboardError } from "../errors/switchboard-error.js";
import { TransportErrors } from "../errors/transport-errors.js";
import type { RetryPolicy } from "./types.js";

const IO_CODES = new Set<string>([
  TransportErrors.CONNECT_TIMEOUT.code,
  TransportErrors.READ_TIMEOUT.code,
  TransportErrors.WRITE_TIMEOUT.code,
  TransportErrors.CONNECTION_REFUSED.code,
  TransportErrors.CONNECTION_RESET.code,
  TransportErrors.IO.code,
]);

/** Whether a failed attempt may be tried again under `policy` (the budget is checked elsewhere). */
export function isRetryable(error: SwitchboardError, policy: RetryPolicy): boolean {
  if (IO_CODES.has(error.code)) return policy.retryIoErrors;
  if (error.code === TransportErrors.INVALID_RESPONSE.code) return policy.retryInvalidResponses;
  if (error.code === TransportErrors.HTTP_STATUS.code) {
    const status = Number(error.details.status);
    if (policy.retryStatuses === "all-failures") return true;
    return policy.retryStatuses.includes(status) || (policy.retryServerErrors && status >= 500);
  }
  // TLS failures, bad URLs, payload limits, aborts: trying again cannot help.
  return false;
}

/** Exponential backoff with full jitter over the upper half: [d/2, d]. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.initialBackoffMs * 2 ** (attempt - 1), policy.maxBackoffMs);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds from now. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
