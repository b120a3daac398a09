import type pg from "pg";
import { inTransaction, type Transaction } from "./transaction.js";

/** What the cluster_meta row holds. */
export interface ClusterMeta {
  readonly partitionCount: number;
  readonly createdAt: Date;
}

/** The cluster's meta row, or undefined when no cluster was created in this database yet. */
export async function readClusterMeta(client: pg.Pool | Transaction): Promise<ClusterMeta | undefined> {
  const { rows } = await client.query<{ partition_count: number; created_at: Date }>(
    "SELECT partition_count, created_at FROM cluster_meta",
  );
  const row = rows[0];
  return row ? { partitionCount: row.partition_count, createdAt: row.created_at } : undefined;
}

/**
 * Creates the cluster with `partitionCount` partitions (meta row and one unowned partition
 * row each) unless one exists; returns the cluster as it now is, so when several instances
 * create at once, all of them see the one that won.
 */
export async function createCluster(
  pool: pg.Pool,
  partitionCount: number,
): Promise<{ readonly meta: ClusterMeta; readonly created: boolean }> {
  return inTransaction(pool, async (transaction) => {
    const inserted = await transaction.query(
      "INSERT INTO cluster_meta (partition_count) VALUES ($1) ON CONFLICT (singleton) DO NOTHING",
      [partitionCount],
    );
    const created = inserted.rowCount === 1;
    if (created) {
      await transaction.query(
        "INSERT INTO partitions (partition) SELECT generate_series(0, $1::integer - 1) ON CONFLICT DO NOTHING",
        [partitionCount],
      );
    }
    const meta = await readClusterMeta(transaction);
    if (!meta) throw new Error("cluster_meta is empty right after an insert");
    return { meta, created };
  });
}
