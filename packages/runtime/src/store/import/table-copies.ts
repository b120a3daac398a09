import { partitionOf } from "../../cluster/partition-hash.js";

/** A column of the PostgreSQL table, and how its value comes from the SQLite row. */
export interface CopiedColumn {
  readonly name: string;
  /** The PostgreSQL type the column's array is cast to (`unnest($n::<type>[])`). */
  readonly type: "bigint" | "integer" | "text" | "boolean" | "bytea";
  value(row: SqliteRow, partitionCount: number): unknown;
}

export type SqliteRow = Record<string, unknown>;

/** How one table of the embedded store is copied into the cluster's table of the same name. */
export interface TableCopy {
  readonly table: string;
  /** As the summary names it. */
  readonly label: string;
  /** The SQLite query, in the order rows are inserted. */
  readonly select: string;
  readonly columns: readonly CopiedColumn[];
  /**
   * Whether `seq` is an identity column: rows keep their SQLite seq (OVERRIDING SYSTEM VALUE)
   * and the identity is moved past every seq the node ever gave (restart-identities.ts).
   */
  readonly identity: boolean;
  /** Appended to the insert: what a row the cluster already has does instead. */
  readonly onConflict?: string;
}

const column = (
  name: string,
  type: CopiedColumn["type"],
  value: (row: SqliteRow, partitionCount: number) => unknown = (row) => row[name],
): CopiedColumn => ({ name, type, value });

/** `partition` from two of the row's columns, as cluster/partition-hash.ts files an address. */
const partitionBy = (fnColumn: string, idColumn: string) =>
  column("partition", "integer", (row, partitionCount) =>
    partitionOf(String(row[fnColumn]), String(row[idColumn]), partitionCount),
  );

const seq = column("seq", "bigint");
const fn = column("fn", "text");
const id = column("id", "text");
const hasValue = column("has_value", "boolean", (row) => row.has_value === 1);

/** A stored message's columns (messages and dead_letters share them). */
const messageColumns = [
  seq,
  partitionBy("fn", "id"),
  fn,
  id,
  column("caller_fn", "text"),
  column("caller_id", "text"),
  column("typename", "text"),
  hasValue,
  column("value", "bytea"),
  column("accepted_at", "bigint"),
];

/**
 * Every table of the embedded store (schema.ts), each into the cluster table of the same name
 * with the same columns (store/postgres/schema-v1.ts) plus the partition the cluster's own
 * writers would file the row under:
 * - messages, dead letters, state and suspensions: their address's;
 * - timers: their sender's (the sender's owner fires and cancels them);
 * - egress records: their producer's in the cluster, but the embedded store does not record
 *   the producer. An imported record goes to the partition of its egress id (`partitionOf(egress, "")`):
 *   one owner then delivers all the imported records of an egress, in the node's order.
 * Rows are read and inserted in seq order (specs in registration order).
 */
export const TABLE_COPIES: readonly TableCopy[] = [
  {
    table: "specs",
    label: "specs",
    select: "SELECT * FROM specs ORDER BY fn, registered_at, name",
    columns: [
      fn,
      column("name", "text"),
      column("typename", "text"),
      column("expire_mode", "integer"),
      column("expire_after_ms", "bigint"),
      column("registered_at", "bigint"),
    ],
    identity: false,
    // The only table a new cluster may already have rows in: the first registration wins.
    onConflict: "ON CONFLICT (fn, name) DO NOTHING",
  },
  {
    table: "state",
    label: "state values",
    select: "SELECT * FROM state ORDER BY fn, id, name",
    columns: [
      partitionBy("fn", "id"),
      fn,
      id,
      column("name", "text"),
      column("value", "bytea"),
      column("expires_at", "bigint"),
    ],
    identity: false,
  },
  {
    table: "messages",
    label: "messages",
    select: "SELECT * FROM messages ORDER BY seq",
    columns: messageColumns,
    identity: true,
  },
  {
    table: "timers",
    label: "timers",
    select: "SELECT * FROM timers ORDER BY seq",
    columns: [
      seq,
      partitionBy("sender_fn", "sender_id"),
      column("sender_fn", "text"),
      column("sender_id", "text"),
      column("token", "text"),
      column("due_at", "bigint"),
      column("target_fn", "text"),
      column("target_id", "text"),
      column("typename", "text"),
      hasValue,
      column("value", "bytea"),
    ],
    identity: true,
  },
  {
    table: "egress",
    label: "egress records",
    select: "SELECT * FROM egress ORDER BY seq",
    columns: [
      seq,
      column("partition", "integer", (row, partitionCount) =>
        importedEgressPartition(String(row.egress), partitionCount),
      ),
      column("egress", "text"),
      column("topic", "text"),
      column("typename", "text"),
      column("value", "bytea"),
      column("created_at", "bigint"),
      column("attempts", "integer"),
    ],
    identity: true,
  },
  {
    table: "suspensions",
    label: "suspensions",
    select: "SELECT * FROM suspensions ORDER BY suspended_at, fn, id",
    columns: [
      partitionBy("fn", "id"),
      fn,
      id,
      column("failures", "integer"),
      column("error_code", "text"),
      column("error_message", "text"),
      column("suspended_at", "bigint"),
      column("retry_at", "bigint"),
    ],
    identity: false,
  },
  {
    table: "dead_letters",
    label: "dead letters",
    select: "SELECT * FROM dead_letters ORDER BY seq",
    columns: [
      ...messageColumns,
      column("original_seq", "bigint"),
      column("error_code", "text"),
      column("error_message", "text"),
      column("dead_lettered_at", "bigint"),
    ],
    identity: true,
  },
];

/** The partition an imported egress record is filed under (see TABLE_COPIES). */
export function importedEgressPartition(egress: string, partitionCount: number): number {
  return partitionOf(egress, "", partitionCount);
}
