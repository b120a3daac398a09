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
  readonly work: (transaction: Transaction) => Promise<T>;
}

/**
 * Writes a group of owner-only units in one transaction. The partition rows of the whole
 * group are share-locked first, in partition order and in one statement (the order the lease
 * statements lock them in, so a renewal never deadlocks with a group), and their epochs are
 * compared per unit: a unit whose partition changed hands fails with
 * SB_CLUSTER_OWNERSHIP_LOST and writes nothing while the others go on. Each unit of a group
 * of several runs in its own savepoint, so a unit that fails undoes only itself.
 */
export async function runFencedGroup(
  pool: pg.Pool,
  owner: PartitionOwner,
  units: readonly FencedUnit<unknown>[],
): Promise<UnitOutcome<unknown>[]> {
  return inTransaction(pool, async (transaction) => {
    const held = [...new Set(units.flatMap((unit) => unit.partitions))]
      .filter((partition) => owner.epochOf(partition) !== undefined)
      .sort((a, b) => a - b);
    const current = await lockEpochs(transaction, held);
    const outcomes: UnitOutcome<unknown>[] = [];
    for (const unit of units) {
      const lost = lostLeases(owner, unit.partitions, current);
      if (lost.length > 0) {
        outcomes.push({
          ok: false,
          error: await fenceFailure(owner, transaction, unit.partitions, lost, current),
        });
      } else if (units.length === 1) {
        // Alone in its transaction: a failure rolls the transaction back, no savepoint needed.
        outcomes.push({ ok: true, value: await unit.work(transaction) });
      } else {
        outcomes.push(await inSavepoint(transaction, unit.work));
      }
    }
    return outcomes;
  });
}

async function lockEpochs(
  transaction: Transaction,
  partitions: readonly number[],
): Promise<Map<number, number>> {
  if (partitions.length === 0) return new Map();
  const { rows } = await transaction.query<{ partition: number; epoch: string }>(
    "SELECT partition, epoch FROM partitions WHERE partition = ANY($1::integer[]) ORDER BY partition FOR SHARE",
    [partitions],
  );
  return new Map(rows.map((row) => [row.partition, Number(row.epoch)]));
}

function lostLeases(
  owner: PartitionOwner,
  partitions: readonly number[],
  current: ReadonlyMap<number, number>,
): PartitionLease[] {
  const lost: PartitionLease[] = [];
  for (const partition of partitions) {
    const epoch = owner.epochOf(partition);
    if (epoch === undefined || current.get(partition) !== epoch) lost.push({ partition, epoch: epoch ?? -1 });
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
