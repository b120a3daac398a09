import type { PoolOptions } from "./open-pool.js";

/** How to open the PostgreSQL store (cluster mode). */
export interface PostgresStoreOptions extends PoolOptions {
  /** `postgres://user[:password]@host[:port]/database`; from `--store` or SWITCHBOARD_STORE. */
  readonly url: string;
  /**
   * The partition count this instance expects. A new cluster is created with it (default
   * 128); an existing cluster with another count makes open() fail with
   * SB_CLUSTER_PARTITION_MISMATCH. Absent: take whatever the cluster has.
   */
  readonly partitions?: number;
}
