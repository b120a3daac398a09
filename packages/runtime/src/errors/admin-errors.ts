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
} as const satisfies Record<string, ErrorDefinition>;
