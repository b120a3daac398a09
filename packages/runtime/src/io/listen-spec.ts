import { z } from "zod";
import { parseDuration } from "../config/duration.js";

const duration = z.union([z.string(), z.number()]).transform((value, context) => {
  const parsed = parseDuration(value);
  if (!parsed.ok) {
    context.addIssue({ code: "custom", message: parsed.reason });
    return z.NEVER;
  }
  return parsed.ms;
});

/** How long a client may take to send a whole request (headers and body) by default. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** How long a client may take to send the request headers by default. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Open connections per listener by default; more are closed as they arrive. */
export const DEFAULT_MAX_CONNECTIONS = 4096;

/** Where one of Switchboard's own HTTP servers listens (spread into a component's spec). */
export const listenAddressShape = {
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65535),
  /** The interface to bind; loopback unless told otherwise. */
  host: z.string().default("127.0.0.1"),
  /**
   * Time to receive a whole request, body included (a client dripping its body is cut off
   * with 408); a response being sent is not bounded by it.
   */
  requestTimeout: duration
    .refine((ms) => ms > 0, "requestTimeout must be above 0")
    .default(DEFAULT_REQUEST_TIMEOUT_MS),
  /** Time to receive the request headers. */
  headersTimeout: duration
    .refine((ms) => ms > 0, "headersTimeout must be above 0")
    .default(DEFAULT_HEADERS_TIMEOUT_MS),
  /** Open connections at most; further ones are closed at once. */
  maxConnections: z.number().int().positive().default(DEFAULT_MAX_CONNECTIONS),
};

/** The client limits of a listener, as its spec gives them. */
export interface ClientLimits {
  readonly requestTimeout: number;
  readonly headersTimeout: number;
  readonly maxConnections: number;
}
