import { prepared } from "./prepared.js";
import { SqlParams } from "./sql-params.js";
import type { Transaction } from "./transaction.js";

/**
 * The first key of the lock a transaction holds on a partition's inbox while it adds messages
 * there: `pg_advisory_xact_lock(MESSAGE_PARTITION_LOCK, partition)`. Any fixed number ("SBmp");
 * the two-integer form is a key space apart from the one-bigint form of the migration lock.
 *
 * Why: `messages.seq` is an identity column, whose values are drawn when a row is inserted, not
 * when its transaction commits, so two transactions adding to one partition could become
 * visible in the opposite order of their seqs, and an owner that has seen seq 10 of an address
 * could later find seq 9 of it. Dispatch counts an address's messages by seq ("a message that
 * becomes visible later has a higher seq"), so every insert into `messages` first takes this
 * lock for each target partition, before any of its seqs is drawn, and holds it until its
 * transaction ends. PostgreSQL releases a transaction's locks only after its commit is visible
 * to others (CommitTransaction clears it from the proc array, then releases its locks), so the
 * next holder draws higher seqs and becomes visible later: within a partition, seq order is
 * commit order. Across partitions it is not (each has its own lock), which is why a
 * partition's notification carries the lowest seq its transaction added there.
 *
 * No deadlocks, by three rules every writer of `messages` keeps:
 * - a transaction takes all its message-partition locks in one statement, in ascending partition
 *   order (lockMessagePartitionsSql sorts them, and its ORDER BY feeds the lock calls in that
 *   order); a later statement of the same transaction taking one again is granted at once;
 * - it takes them after any timer row it locks (a timer sweep holds the timers it fires while it
 *   inserts their messages; a result deletes timers by token before its messages go in);
 * - once it holds them it waits for no lock that a writer of `messages` may hold while waiting
 *   for them in turn.
 */
export const MESSAGE_PARTITION_LOCK = 0x5342_6d70;

/**
 * A SELECT that takes the message-partition locks of `partitions` (duplicates and order do not
 * matter), in ascending order, and returns one row with a non-null count `n`.
 */
export function lockMessagePartitionsSql(statement: SqlParams, partitions: readonly number[]): string {
  const ordered = [...new Set(partitions)].sort((a, b) => a - b);
  // The volatile call sits in the aggregate above the sort: one call per partition, in order.
  return `SELECT count(pg_advisory_xact_lock(${MESSAGE_PARTITION_LOCK}, p)) AS n
    FROM (SELECT p FROM unnest(${statement.add(ordered)}::integer[]) AS p ORDER BY p) AS ordered`;
}

/**
 * Takes the message-partition locks of `partitions` in a statement of their own: for a
 * transaction that will add messages in several statements (each would otherwise lock its own
 * partitions in its own order).
 */
export async function lockMessagePartitions(
  transaction: Transaction,
  partitions: readonly number[],
): Promise<void> {
  if (partitions.length === 0) return;
  const statement = new SqlParams();
  await transaction.query(prepared(lockMessagePartitionsSql(statement, partitions), statement.values));
}
