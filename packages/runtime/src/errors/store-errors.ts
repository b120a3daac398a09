import type { ErrorDefinition } from "./switchboard-error.js";

/** Errors of the durable store: its data directory (SQLite), reaching PostgreSQL (cluster mode), and its schema. */
export const StoreErrors = {
  /** `--store` / SWITCHBOARD_STORE is not a postgres:// or postgresql:// URL with a host and a database. */
  BAD_URL: { code: "SB_STORE_BAD_URL", status: 500 },
  /** The database server did not answer (refused, unknown host, or no answer within the connect timeout). */
  UNREACHABLE: { code: "SB_STORE_UNREACHABLE", status: 503 },
  /** The server refused the user or password. */
  AUTH_FAILED: { code: "SB_STORE_AUTH_FAILED", status: 503 },
  /** The server answered, but the database named in the URL does not exist. */
  NO_DATABASE: { code: "SB_STORE_NO_DATABASE", status: 503 },
  /** The database holds a schema written by a newer Switchboard; this one changes nothing and stops. */
  SCHEMA_TOO_NEW: { code: "SB_STORE_SCHEMA_TOO_NEW", status: 500 },
  /** The database has no Switchboard schema yet (`switchboard store init` creates it). */
  NOT_INITIALIZED: { code: "SB_STORE_NOT_INITIALIZED", status: 500 },
  /** A statement failed for a reason of the database's own (connection lost, disk full, ...). */
  FAILED: { code: "SB_STORE_FAILED", status: 503 },
  /** Another process (or another open store in this one) holds the data directory. */
  DATA_DIR_LOCKED: { code: "SB_STORE_DATA_DIR_LOCKED", status: 409 },
  /**
   * `store import` was given a data directory without a Switchboard store in it, with a store
   * of a schema version this Switchboard does not read, or with a value that is not bytes
   * where bytes belong. Nothing was changed.
   */
  IMPORT_BAD_SOURCE: { code: "SB_STORE_IMPORT_BAD_SOURCE", status: 500 },
  /**
   * `store import` found data or running instances in the target cluster (or egress ids it
   * already handed out that imported records would repeat). Only a new cluster's database
   * takes an import; nothing was changed.
   */
  IMPORT_TARGET_NOT_EMPTY: { code: "SB_STORE_IMPORT_TARGET_NOT_EMPTY", status: 409 },
  /** The better-sqlite3 build for this Node is not installed (its build failed, or npm was told to omit optional packages). */
  SQLITE_MISSING: { code: "SB_STORE_SQLITE_MISSING", status: 500 },
} as const satisfies Record<string, ErrorDefinition>;
