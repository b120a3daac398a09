import type { ImportSummary } from "../store/import/import-sqlite-store.js";

/** `switchboard store import`'s report: where from and to, the rows per table and the time taken. */
export function formatImportSummary(summary: ImportSummary): string {
  const width = Math.max(...summary.tables.map((table) => table.label.length));
  const digits = Math.max(...summary.tables.map((table) => String(table.rows).length));
  const total = summary.tables.reduce((sum, table) => sum + table.rows, 0);
  return [
    `imported ${summary.dataDir} into ${summary.store} (${summary.partitionCount} partitions): ${total} rows in ${(summary.elapsedMs / 1000).toFixed(2)} s`,
    ...summary.tables.map(
      (table) => `  ${table.label.padEnd(width)}  ${String(table.rows).padStart(digits)}`,
    ),
    "",
  ].join("\n");
}
