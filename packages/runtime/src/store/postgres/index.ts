/**
 * The PostgreSQL store's pieces so far (cluster mode, docs/cluster.md): open it, run
 * transactions, add messages and read a partition's backlog, and the operator's status view.
 */
export { type ClusterMeta, createCluster, readClusterMeta } from "./cluster-meta.js";
export {
  type ClusterStatus,
  type MemberStatus,
  type PartitionStatus,
  readClusterStatus,
} from "./cluster-status.js";
export { appendMessages } from "./ingress-messages.js";
export { type MigrationOutcome, migrateSchema, readSchemaVersion } from "./migrate.js";
export { LATEST_SCHEMA_VERSION } from "./migrations.js";
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  openPool,
  type PoolOptions,
} from "./open-pool.js";
export { type PartitionMessage, readMessagesAfter } from "./partition-messages.js";
export { PostgresStore } from "./postgres-store.js";
export type { PostgresStoreOptions } from "./postgres-store-options.js";
export { toStoreError } from "./store-error.js";
export { isPostgresUrl, parseStoreUrl, type StoreUrl } from "./store-url.js";
export { inTransaction, type Transaction } from "./transaction.js";
