import type { Command } from "commander";
import { checkPartitionCount, DEFAULT_PARTITION_COUNT } from "../cluster/partition-count.js";
import { StoreErrors } from "../errors/store-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { importSqliteStore } from "../store/import/import-sqlite-store.js";
import { readClusterStatus } from "../store/postgres/cluster-status.js";
import { openPool } from "../store/postgres/open-pool.js";
import { PostgresStore } from "../store/postgres/postgres-store.js";
import { parseStoreUrl } from "../store/postgres/store-url.js";
import { formatClusterStatus } from "./print-cluster-status.js";
import { formatImportSummary } from "./print-import-summary.js";

interface StoreFlags {
  store?: string;
}

/** `switchboard store init|status|import`: the cluster's PostgreSQL store, for operators. */
export function registerStoreCommand(program: Command): void {
  const store = program.command("store").description("create or inspect a cluster's PostgreSQL store");
  withStoreFlag(store.command("init"))
    .description("create or migrate the schema and create the cluster (idempotent)")
    .option(
      "--partitions <n>",
      `partition count of a new cluster, fixed from then on (default ${DEFAULT_PARTITION_COUNT}; an existing cluster must match)`,
    )
    .action(async (flags: StoreFlags & { partitions?: string }) => {
      const url = storeUrl(flags);
      const partitions = flags.partitions === undefined ? undefined : checkPartitionCount(flags.partitions);
      const opened = await PostgresStore.open({
        url,
        ...(partitions !== undefined ? { partitions } : {}),
        maxConnections: 2,
      });
      try {
        const { from, to } = opened.migration;
        const how = from === to ? "already current" : from === 0 ? "created" : `migrated from ${from}`;
        console.log(
          `store ${opened.url.redacted}: schema version ${to} (${how}), ${opened.partitionCount} partitions`,
        );
      } finally {
        await opened.close();
      }
    });
  withStoreFlag(store.command("status"))
    .description("members, partition owners, epochs, leases and queued messages")
    .option("--json", "print the status as JSON")
    .action(async (flags: StoreFlags & { json?: boolean }) => {
      const url = parseStoreUrl(storeUrl(flags));
      const pool = await openPool(url, { maxConnections: 1 });
      try {
        const status = await readClusterStatus(pool);
        process.stdout.write(
          flags.json ? `${JSON.stringify(status, null, 2)}\n` : formatClusterStatus(status, url.redacted),
        );
      } finally {
        await pool.end();
      }
    });
  withStoreFlag(store.command("import"))
    .description(
      "copy a stopped node's embedded store (--data-dir) into a new cluster's database, in one transaction",
    )
    .option("--data-dir <dir>", "the node's data directory", ".switchboard")
    .option(
      "--partitions <n>",
      `partition count of the cluster the import creates (default ${DEFAULT_PARTITION_COUNT}; an existing cluster must match)`,
    )
    .action(async (flags: StoreFlags & { dataDir: string; partitions?: string }) => {
      const url = storeUrl(flags);
      const partitions = flags.partitions === undefined ? undefined : checkPartitionCount(flags.partitions);
      const summary = await importSqliteStore({
        dataDir: flags.dataDir,
        url,
        ...(partitions !== undefined ? { partitions } : {}),
      });
      process.stdout.write(formatImportSummary(summary));
    });
}

function withStoreFlag(command: Command): Command {
  return command.option(
    "--store <url>",
    "postgres://user[:password]@host[:port]/database (default: $SWITCHBOARD_STORE)",
    process.env.SWITCHBOARD_STORE,
  );
}

function storeUrl(flags: StoreFlags): string {
  if (!flags.store) {
    throw new SwitchboardError(
      StoreErrors.BAD_URL,
      "no store given: pass --store postgres://... or set SWITCHBOARD_STORE",
    );
  }
  return flags.store;
}
