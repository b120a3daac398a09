import type pg from "pg";
import { checkPartitionCount, DEFAULT_PARTITION_COUNT } from "../../cluster/partition-count.js";
import { ClusterErrors } from "../../errors/cluster-errors.js";
import { SwitchboardError } from "../../errors/switchboard-error.js";
import { type ClusterMeta, createCluster, readClusterMeta } from "./cluster-meta.js";
import { type MigrationOutcome, migrateSchema } from "./migrate.js";
import { openPool } from "./open-pool.js";
import type { PostgresStoreOptions } from "./postgres-store-options.js";
import { parseStoreUrl, type StoreUrl } from "./store-url.js";
import { inTransaction, type Transaction } from "./transaction.js";

/**
 * A connection to the cluster's PostgreSQL database with its schema current and its cluster
 * created: what every cluster piece (ownership, notifier, the tables) works through.
 */
export class PostgresStore {
  private constructor(
    readonly pool: pg.Pool,
    readonly url: StoreUrl,
    readonly cluster: ClusterMeta,
    readonly migration: MigrationOutcome,
  ) {}

  /**
   * Validates the URL, connects, migrates the schema (refusing a newer one) and creates the
   * cluster when the database has none. Every failure is a SwitchboardError with an SB_STORE_*
   * or SB_CLUSTER_* code and a message without the password.
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const url = parseStoreUrl(options.url);
    const expected = options.partitions === undefined ? undefined : checkPartitionCount(options.partitions);
    const pool = await openPool(url, options);
    try {
      const migration = await migrateSchema(pool);
      const cluster =
        (await readClusterMeta(pool)) ??
        (await createCluster(pool, expected ?? DEFAULT_PARTITION_COUNT)).meta;
      if (expected !== undefined && expected !== cluster.partitionCount) {
        throw new SwitchboardError(
          ClusterErrors.PARTITION_MISMATCH,
          `the cluster in ${url.redacted} has ${cluster.partitionCount} partitions, this instance was started with ${expected}; the count is fixed when the cluster is created`,
          { clusterPartitions: cluster.partitionCount, requestedPartitions: expected },
        );
      }
      return new PostgresStore(pool, url, cluster, migration);
    } catch (error) {
      await pool.end().catch(() => {});
      throw error;
    }
  }

  get partitionCount(): number {
    return this.cluster.partitionCount;
  }

  /** Runs `work` in one transaction (see transaction.ts). */
  transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
