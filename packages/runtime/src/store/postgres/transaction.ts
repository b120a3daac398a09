import type pg from "pg";
import { toStoreError } from "./store-error.js";

/** A connection inside an open transaction (BEGIN done, COMMIT pending). */
export type Transaction = pg.PoolClient;

/**
 * Runs `work` in one transaction on a pooled connection: COMMIT when it resolves, ROLLBACK
 * when it throws (the error then propagates as it was thrown when it is a SwitchboardError,
 * as SB_STORE_FAILED otherwise). A connection whose ROLLBACK failed is discarded, not reused.
 * `begin` may add statements (no parameters) to the BEGIN round trip; `work` gets their results.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (transaction: Transaction, begun: readonly pg.QueryResult[]) => Promise<T>,
  begin = "BEGIN",
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw toStoreError(error);
  }
  let broken: Error | undefined;
  try {
    // Several statements in one simple query come back as one result each.
    const begun = (await client.query(begin)) as pg.QueryResult | pg.QueryResult[];
    const result = await work(client, Array.isArray(begun) ? begun : [begun]);
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
