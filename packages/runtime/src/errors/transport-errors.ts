import type { ErrorDefinition } from "./switchboard-error.js";

/** Errors of the outbound HTTP transport. Statuses are what a proxying caller would answer. */
export const TransportErrors = {
  CONNECT_TIMEOUT: { code: "SB_TRANSPORT_CONNECT_TIMEOUT", status: 504 },
  READ_TIMEOUT: { code: "SB_TRANSPORT_READ_TIMEOUT", status: 504 },
  WRITE_TIMEOUT: { code: "SB_TRANSPORT_WRITE_TIMEOUT", status: 504 },
  /** The call's whole budget ran out; details carry the attempts and the last failure. */
  DEADLINE_EXCEEDED: { code: "SB_TRANSPORT_DEADLINE_EXCEEDED", status: 504 },
  PAYLOAD_TOO_LARGE: { code: "SB_TRANSPORT_PAYLOAD_TOO_LARGE", status: 502 },
  CONNECTION_REFUSED: { code: "SB_TRANSPORT_CONNECTION_REFUSED", status: 502 },
  CONNECTION_RESET: { code: "SB_TRANSPORT_CONNECTION_RESET", status: 502 },
  TLS: { code: "SB_TRANSPORT_TLS", status: 502 },
  BAD_URL: { code: "SB_TRANSPORT_BAD_URL", status: 500 },
  /** A non-2xx answer that was not retried, or still failed when retries ran out. */
  HTTP_STATUS: { code: "SB_TRANSPORT_HTTP_STATUS", status: 502 },
  /** The caller rejected the response (wrong content type, unreadable body). */
  INVALID_RESPONSE: { code: "SB_TRANSPORT_INVALID_RESPONSE", status: 502 },
  /** The caller's signal aborted the call. */
  ABORTED: { code: "SB_TRANSPORT_ABORTED", status: 499 },
  /** The transport was closed. */
  CLOSED: { code: "SB_TRANSPORT_CLOSED", status: 503 },
  /** A redirect chain ran past the request's hop limit (a loop, usually). */
  TOO_MANY_REDIRECTS: { code: "SB_TRANSPORT_TOO_MANY_REDIRECTS", status: 502 },
  /** A redirect's Location is missing the mark: not a URL, not http(s), or a local socket. */
  BAD_REDIRECT: { code: "SB_TRANSPORT_BAD_REDIRECT", status: 502 },
  /** Any other I/O failure. */
  IO: { code: "SB_TRANSPORT_IO", status: 502 },
} as const satisfies Record<string, ErrorDefinition>;
