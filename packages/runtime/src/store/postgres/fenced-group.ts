import type pg from "pg";
import { ownershipLost } from "../../cluster/fencing.js";
import type { PartitionLease } from "../../cluster/lease-table.js";
import type { UnitOutcome } from "./group-commit.js";
import type { PartitionOwner } from "./partition-owner.js";
import { toStoreError } from "./store-error.js";
import { inTransaction, type Transaction } from "./transaction.js";

/** An owner-only write: it runs only while this instance holds every one of `partitions`. */
export interface FencedUnit<T> {
  readonly partitions: readonly number[];
  /**
   * Epochs the unit was prepared under, by partition: checked instead of the ones held now,
   * so work prepared before a partition was lost and taken back never commits.
   */
  readonly epochs?: ReadonlyMap<number, number>;
  readonly work: (transaction: Transaction) => Promise<T>;
}

/**
 * Writes all of a group's units at once (a statement per kind of row, not per unit), given
 * the indexes of the units that passed their check; returns their values in that order.
 */
export type WriteBatch = (transaction: Transaction, admitted: readonly number[]) => Promise<unknown[]>;

/**
 * Takes, before the admitted units run one by one, the locks their work would otherwise take
 * unit by unit (and so in an order of no one's choosing): the message-partition locks above
 * all, which a transaction must take in one statement (message-partition-locks.ts).
 */
export type LockAhead = (transaction: Transaction, admitted: readonly number[]) => Promise<void>;

/**
 * Writes a group of owner-only units in one transaction. The partition rows of the whole
 * group are share-locked first, in partition order and in one statement (the order the lease
 * statements lock them in, so a renewal never deadlocks with a group), and their epochs are
 * compared per unit: a unit whose partition changed hands fails with
 * SB_CLUSTER_OWNERSHIP_LOST and writes nothing while the others go on. With a `batch`, the
 * admitted units are written together; if that fails, the transaction is rolled back and the
 * group written again (in a new transaction) the way it is without a batch: each unit in a
 * savepoint of its own, so a unit that fails undoes only itself. When more than one unit runs
 * that way, `lockAhead` first takes their locks (outside the savepoints, so a unit rolled back
 * does not release them).
 */
export async function runFencedGroup(
  pool: pg.Pool,
  owner: PartitionOwner,
  units: readonly FencedUnit<unknown>[],
  batch?: WriteBatch,
  lockAhead?: LockAhead,
): Promise<UnitOutcome<unknown>[]> {
  let batchFailed = false;
  const held = heldPartitions(owner, units);
  try {
    return await inTransaction(
      pool,
      async (transaction, begun) => {
        const current = new Map(
          (begun[1]?.rows ?? []).map((row: { partition: number; epoch: string }) => [
            row.partition,
            Number(row.epoch),
          ]),
        );
        const refusals = await checkUnits(transaction, owner, units, current);
        const outcomes: (UnitOutcome<unknown> | undefined)[] = refusals.map((error) =>
          error === undefined ? undefined : { ok: false, error },
        );
        const admitted = units.flatMap((_, index) => (refusals[index] === undefined ? [index] : []));
        if (admitted.length === 1 && units.length === 1) {
          // Alone in its transaction: a failure rolls the transaction back, no savepoint needed.
          return [{ ok: true, value: await (units[0] as FencedUnit<unknown>).work(transaction) }];
        }
        if (batch && admitted.length > 1) {
          let values: unknown[];
          try {
            values = await batch(transaction, admitted);
          } catch (error) {
            batchFailed = true;
            throw error;
          }
          admitted.forEach((unit, index) => {
            outcomes[unit] = { ok: true, value: values[index] };
          });
        } else {
          if (lockAhead && admitted.length > 1) await lockAhead(transaction, admitted);
          for (const unit of admitted) {
            outcomes[unit] = await inSavepoint(transaction, (units[unit] as FencedUnit<unknown>).work);
          }
        }
        return outcomes as UnitOutcome<unknown>[];
      },
      held.length === 0 ? "BEGIN" : `BEGIN; ${lockEpochsSql(held)}`,
    );
  } catch (error) {
    // The shared statements failed before COMMIT, so nothing was written (a failed COMMIT
    // is never retried: it may have committed). Write each unit alone, checked again.
    if (batchFailed) return runFencedGroup(pool, owner, units, undefined, lockAhead);
    throw error;
  }
}

/**
 * The partitions of `units` this instance holds, in partition order: the rows the group
 * share-locks, in one statement and in the order the lease statements lock them in, so a
 * renewal never deadlocks with a group.
 */
function heldPartitions(owner: PartitionOwner, units: readonly FencedUnit<unknown>[]): number[] {
  return [...new Set(units.flatMap((unit) => unit.partitions))]
    .filter((partition) => owner.epochOf(partition) !== undefined)
    .sort((a, b) => a - b);
}

/**
 * The share-lock statement, sent with BEGIN in one round trip (so without parameters: the
 * partitions are checked integers).
 */
function lockEpochsSql(partitions: readonly number[]): string {
  if (!partitions.every((partition) => Number.isSafeInteger(partition) && partition >= 0)) {
    throw new Error(`partition numbers must be non-negative integers: ${partitions.join(", ")}`);
  }
  return `SELECT partition, epoch FROM partitions WHERE partition IN (${partitions.join(", ")}) ORDER BY partition FOR SHARE`;
}

/** Per unit, the error that refuses it (its partitions' epochs differ), or undefined when it may write. */
async function checkUnits(
  transaction: Transaction,
  owner: PartitionOwner,
  units: readonly FencedUnit<unknown>[],
  current: ReadonlyMap<number, number>,
): Promise<unknown[]> {
  const refusals: unknown[] = [];
  for (const unit of units) {
    const lost = lostLeases(owner, unit, current);
    refusals.push(
      lost.length === 0 ? undefined : await fenceFailure(owner, transaction, unit.partitions, lost, current),
    );
  }
  return refusals;
}

function lostLeases(
  owner: PartitionOwner,
  unit: FencedUnit<unknown>,
  current: ReadonlyMap<number, number>,
): PartitionLease[] {
  const lost: PartitionLease[] = [];
  for (const partition of unit.partitions) {
    const held = owner.epochOf(partition);
    const expected = unit.epochs?.get(partition) ?? held;
    if (held === undefined || expected !== held || current.get(partition) !== expected) {
      lost.push({ partition, epoch: expected ?? -1 });
    }
  }
  return lost;
}

/**
 * The error of a unit that failed its check. The owner's own fence() runs for it, so a
 * partition found lost is dropped and the owner's listeners hear it at once; if the owner
 * holds the partition again by now (with a new epoch), the unit still fails: it was prepared
 * under the old one.
 */
async function fenceFailure(
  owner: PartitionOwner,
  transaction: Transaction,
  partitions: readonly number[],
  lost: readonly PartitionLease[],
  current: ReadonlyMap<number, number>,
): Promise<unknown> {
  try {
    await owner.fence(transaction, partitions);
  } catch (error) {
    return error;
  }
  return ownershipLost(lost, current);
}

async function inSavepoint(
  transaction: Transaction,
  work: (transaction: Transaction) => Promise<unknown>,
): Promise<UnitOutcome<unknown>> {
  await transaction.query("SAVEPOINT unit");
  try {
    const value = await work(transaction);
    await transaction.query("RELEASE SAVEPOINT unit");
    return { ok: true, value };
  } catch (error) {
    await transaction.query("ROLLBACK TO SAVEPOINT unit");
    return { ok: false, error: toStoreError(error) };
  }
}
