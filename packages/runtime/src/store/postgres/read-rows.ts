import type pg from "pg";
import { prepared } from "./prepared.js";
import { toStoreError } from "./store-error.js";

/** One read through the pool (outside any transaction); failures become SB_STORE_* errors. */
export async function readRows<T extends pg.QueryResultRow>(
  client: pg.Pool | pg.PoolClient,
  text: string,
  values: readonly unknown[] = [],
): Promise<T[]> {
  try {
    return (await client.query<T>(text, values as unknown[])).rows;
  } catch (error) {
    throw toStoreError(error);
  }
}

/** readRows as a named prepared statement: for the reads dispatch makes for every batch. */
export async function readPreparedRows<T extends pg.QueryResultRow>(
  client: pg.Pool | pg.PoolClient,
  text: string,
  values: readonly unknown[],
): Promise<T[]> {
  try {
    return (await client.query<T>(prepared(text, values))).rows;
  } catch (error) {
    throw toStoreError(error);
  }
}
