import pg from "pg";
import { toStoreError } from "./store-error.js";
import type { StoreUrl } from "./store-url.js";

export interface PoolOptions {
  /** Connections this instance may hold; N instances x this must stay under max_connections. */
  readonly maxConnections?: number;
  /** How long a connection attempt may take before the store counts as unreachable. */
  readonly connectTimeoutMs?: number;
  /** Shown in pg_stat_activity, so an operator sees which instance holds which connections. */
  readonly applicationName?: string;
  /** Told about a pooled connection that broke while idle (the pool replaces it). */
  readonly onIdleError?: (error: Error) => void;
}

export const DEFAULT_MAX_CONNECTIONS = 10;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/**
 * A connection pool for the store, checked with one round trip before it is returned, so a
 * bad host, password or database fails here with a clear SB_STORE_* error rather than at the
 * first message.
 */
export async function openPool(url: StoreUrl, options: PoolOptions = {}): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: url.url,
    max: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    application_name: options.applicationName ?? "switchboard",
  });
  // Without a listener, a server ending an idle connection would crash the process.
  pool.on("error", (error) => options.onIdleError?.(error));
  try {
    await pool.query("SELECT 1");
  } catch (error) {
    await pool.end().catch(() => {});
    throw toStoreError(error, `PostgreSQL store ${url.redacted}`);
  }
  return pool;
}
