import type { ErrorDefinition } from "./switchboard-error.js";

/** Errors of the durable store and its data directory. */
export const StoreErrors = {
  /** Another process (or another open store in this one) holds the data directory. */
  DATA_DIR_LOCKED: { code: "SB_STORE_DATA_DIR_LOCKED", status: 409 },
} as const satisfies Record<string, ErrorDefinition>;
