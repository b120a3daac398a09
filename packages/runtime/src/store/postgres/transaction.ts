import type pg from "pg";
import { toStoreError } from "./store-error.js";

/** A connection inside an open transaction (BEGIN done, COMMIT pending). */
export type Transaction = pg.PoolClient;

/**
 * Runs `work` in one transaction on a pooled connection: COMMIT when it resolves, ROLLBACK
 * when it throws (the error then propagates as it was thrown when it is a SwitchboardError,
 * as SB_STORE_FAILED otherwise). A connection whose ROLLBACK failed is discarded, not reused.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (transaction: Transaction) => Promise<T>,
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw toStoreError(error);
  }
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    try {
      await client.query("ROLLBACK");
    } catch (rollbackError) {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    throw toStoreError(error);
  } finally {
    client.release(broken);
  }
}
