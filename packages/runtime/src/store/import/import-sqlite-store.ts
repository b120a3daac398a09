import { performance } from "node:perf_hooks";
import { PostgresStore } from "../postgres/postgres-store.js";
import { parseStoreUrl } from "../postgres/store-url.js";
import { copyTable, DEFAULT_PAGE_LIMITS, type PageLimits } from "./copy-table.js";
import { restartIdentities } from "./restart-identities.js";
import { SqliteSource } from "./sqlite-source.js";
import { TABLE_COPIES } from "./table-copies.js";
import { inspectTarget, refuseUnlessEmpty } from "./target-check.js";

export interface ImportOptions {
  /** The node's --data-dir (holding switchboard.db). */
  readonly dataDir: string;
  /** The cluster's store URL; its database must exist. */
  readonly url: string;
  /** The partition count of a cluster created by the import; an existing cluster must match. */
  readonly partitions?: number;
  readonly pageLimits?: PageLimits;
}

export interface ImportedTable {
  readonly table: string;
  readonly label: string;
  readonly rows: number;
}

export interface ImportSummary {
  readonly dataDir: string;
  /** The store URL with its password hidden. */
  readonly store: string;
  readonly partitionCount: number;
  readonly tables: readonly ImportedTable[];
  /** From opening the node's store to the commit. */
  readonly elapsedMs: number;
}

// Every table the import writes or whose emptiness it relies on: with these held in EXCLUSIVE
// mode (reads still pass) no instance can add a row or take a partition until the commit.
const LOCKED_TABLES = [...TABLE_COPIES.map((copy) => copy.table), "members", "partitions"];

/**
 * Copies a stopped node's embedded store into a new cluster's PostgreSQL database, in ONE
 * transaction: everything or nothing. Refuses a data directory a runtime holds
 * (SB_STORE_DATA_DIR_LOCKED) and a cluster that is not empty or has instances running
 * (SB_STORE_IMPORT_TARGET_NOT_EMPTY), changing nothing; so a second run refuses too.
 *
 * Every row keeps its seq: per-address message order (the order of acknowledgement), timer
 * order, egress order and Idempotency-Keys, and dead-letter ids stay what they were on the
 * node. The identities then continue past the highest seq the node ever gave.
 */
export async function importSqliteStore(options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  parseStoreUrl(options.url);
  const source = SqliteSource.open(options.dataDir);
  try {
    const store = await PostgresStore.open({
      url: options.url,
      ...(options.partitions !== undefined ? { partitions: options.partitions } : {}),
      maxConnections: 2,
      applicationName: "switchboard store import",
    });
    try {
      const lowestEgressSeq = source.lowestSeq("egress");
      // Checked before taking any lock, so a running cluster is refused without being held up.
      refuseUnlessEmpty(await inspectTarget(store.pool, lowestEgressSeq), store.url.redacted);
      const tables = await store.transaction(async (transaction) => {
        // An instance starting now waits for the commit; a lock we cannot get fails, not hangs.
        await transaction.query("SET LOCAL lock_timeout = '10s'");
        await transaction.query(`LOCK TABLE ${LOCKED_TABLES.join(", ")} IN EXCLUSIVE MODE`);
        refuseUnlessEmpty(await inspectTarget(transaction, lowestEgressSeq), store.url.redacted);
        const copied: ImportedTable[] = [];
        for (const copy of TABLE_COPIES) {
          const rows = await copyTable(
            source.db,
            transaction,
            copy,
            store.partitionCount,
            options.pageLimits ?? DEFAULT_PAGE_LIMITS,
          );
          copied.push({ table: copy.table, label: copy.label, rows });
        }
        const identities = TABLE_COPIES.filter((copy) => copy.identity);
        await restartIdentities(
          transaction,
          new Map(identities.map((copy) => [copy.table, source.highWater(copy.table)])),
        );
        return copied;
      });
      return {
        dataDir: options.dataDir,
        store: store.url.redacted,
        partitionCount: store.partitionCount,
        tables,
        elapsedMs: performance.now() - started,
      };
    } finally {
      await store.close();
    }
  } finally {
    source.close();
  }
}
