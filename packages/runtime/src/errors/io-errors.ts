import type { ErrorDefinition } from "./switchboard-error.js";

/** Errors of ingress and egress components. */
export const IoErrors = {
  /** Ingress path is not /<namespace>/<name>/<id>. */
  INGRESS_BAD_PATH: { code: "SB_INGRESS_BAD_PATH", status: 400 },
  /** Ingress method other than POST/PUT. */
  INGRESS_BAD_METHOD: { code: "SB_INGRESS_BAD_METHOD", status: 405 },
  /** Ingress names a function type that no endpoint serves. */
  INGRESS_UNKNOWN_FUNCTION: { code: "SB_INGRESS_UNKNOWN_FUNCTION", status: 404 },
  /** Ingress body above the configured limit. */
  INGRESS_TOO_LARGE: { code: "SB_INGRESS_TOO_LARGE", status: 413 },
  /** The message could not be stored (store failure or shutdown). */
  INGRESS_UNAVAILABLE: { code: "SB_INGRESS_UNAVAILABLE", status: 503 },
  /** A function sent an egress record the egress cannot accept (wrong typename, bad JSON, unknown topic). */
  EGRESS_INVALID_RECORD: { code: "SB_EGRESS_INVALID_RECORD", status: 422 },
  /** Playground egress: GET for a topic not configured. */
  EGRESS_UNKNOWN_TOPIC: { code: "SB_EGRESS_UNKNOWN_TOPIC", status: 405 },
  /** A listening port is taken or not allowed. */
  LISTEN_FAILED: { code: "SB_IO_LISTEN_FAILED", status: 500 },
} as const satisfies Record<string, ErrorDefinition>;
