import type { ErrorDefinition } from "./switchboard-error.js";

/** Errors of the admin API (the admin port). */
export const AdminErrors = {
  /** No admin route has this path. */
  NOT_FOUND: { code: "SB_ADMIN_NOT_FOUND", status: 404 },
  /** The route exists but not for this method. */
  BAD_METHOD: { code: "SB_ADMIN_BAD_METHOD", status: 405 },
  /** A path segment or query parameter is malformed. */
  BAD_REQUEST: { code: "SB_ADMIN_BAD_REQUEST", status: 400 },
  /** No endpoint serves the function type named in the path. */
  UNKNOWN_FUNCTION: { code: "SB_ADMIN_UNKNOWN_FUNCTION", status: 404 },
  /** The action needs a suspended address and this one is not suspended. */
  NOT_SUSPENDED: { code: "SB_ADMIN_NOT_SUSPENDED", status: 409 },
  /** The address has a batch in flight (a retry is running); try again when it settles. */
  ADDRESS_BUSY: { code: "SB_ADMIN_ADDRESS_BUSY", status: 409 },
  /** No dead letter has this id. */
  UNKNOWN_DEAD_LETTER: { code: "SB_ADMIN_UNKNOWN_DEAD_LETTER", status: 404 },
  /** An admin token is set and the action came without `Authorization: Bearer <token>` (or a wrong one). */
  UNAUTHORIZED: { code: "SB_ADMIN_UNAUTHORIZED", status: 401 },
  /** An action came from a web page of another origin (Origin or Sec-Fetch-Site says so). */
  FOREIGN_ORIGIN: { code: "SB_ADMIN_FOREIGN_ORIGIN", status: 403 },
  /** A loopback admin port was addressed under another host name (DNS rebinding). */
  BAD_HOST: { code: "SB_ADMIN_BAD_HOST", status: 421 },
  /** An action came with a body type a cross-site form can send; actions take no body. */
  UNSUPPORTED_BODY: { code: "SB_ADMIN_UNSUPPORTED_BODY", status: 415 },
  /** A cluster route (GET /api/cluster) on a runtime that is not in cluster mode (the embedded store). */
  NOT_CLUSTER: { code: "SB_ADMIN_NOT_CLUSTER", status: 404 },
  /**
   * Cluster: an action on an address another instance owns could not reach the owner: the
   * partition has no owner now, the owner registered no admin port, it did not answer in
   * time, or the request was already forwarded once (ownership moved meanwhile). Try again.
   */
  OWNER_UNAVAILABLE: { code: "SB_ADMIN_OWNER_UNAVAILABLE", status: 503 },
  /** The admin port binds beyond loopback and no admin token is set: nothing was started. */
  TOKEN_REQUIRED: { code: "SB_ADMIN_TOKEN_REQUIRED", status: 500 },
} as const satisfies Record<string, ErrorDefinition>;
