import type pg from "pg";

/** What the cluster's bookkeeping statements need: a pool, a client, or a pool with a deadline. */
export interface SqlClient {
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<Row>>;
}

/**
 * `pool` with every statement given up after `timeoutMs` (pg's client-side query_timeout):
 * the connection is discarded and the statement fails, so a database that stopped answering
 * fails an ownership round instead of holding it, and a graceful stop, forever.
 */
export function withDeadline(pool: pg.Pool, timeoutMs: number): SqlClient {
  return {
    query: <Row extends pg.QueryResultRow>(text: string, values?: unknown[]) =>
      pool.query<Row>({ text, ...(values ? { values } : {}), query_timeout: timeoutMs } as pg.QueryConfig),
  };
}
