import type pg from "pg";
import { ClusterErrors } from "../errors/cluster-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { PartitionLease } from "./lease-table.js";

/**
 * The fencing check. Call it inside the transaction that applies a result, fires a timer or
 * delivers egress, before its writes, with the partitions the transaction touches and the
 * epochs this instance took them with. It share-locks those partition rows until the
 * transaction ends, so no one can take them over while it runs, and throws
 * SB_CLUSTER_OWNERSHIP_LOST (making the caller roll back) when any epoch differs: another
 * instance took the partition, or this one released it. The check is on the epoch alone, not
 * the lease's time: an owner whose lease ran out but that nobody replaced is still the only
 * writer, and an owner that was replaced can never pass it again.
 */
export async function assertEpochs(
  transaction: pg.PoolClient,
  held: readonly PartitionLease[],
): Promise<void> {
  if (held.length === 0) return;
  const partitions = [...new Set(held.map((lease) => lease.partition))].sort((a, b) => a - b);
  const { rows } = await transaction.query<{ partition: number; epoch: string }>(
    "SELECT partition, epoch FROM partitions WHERE partition = ANY($1::integer[]) ORDER BY partition FOR SHARE",
    [partitions],
  );
  const current = new Map(rows.map((row) => [row.partition, Number(row.epoch)]));
  const lost = held.filter((lease) => current.get(lease.partition) !== lease.epoch);
  if (lost.length > 0) throw ownershipLost(lost, current);
}

export function ownershipLost(
  lost: readonly PartitionLease[],
  current: ReadonlyMap<number, number> = new Map(),
): SwitchboardError {
  const shown = lost
    .slice(0, 8)
    .map((lease) =>
      // A negative epoch: the partition is not among those this instance holds at all.
      lease.epoch < 0
        ? `${lease.partition} (not held by this instance)`
        : `${lease.partition} (held epoch ${lease.epoch}, now ${current.get(lease.partition) ?? "unknown"})`,
    )
    .join(", ");
  return new SwitchboardError(
    ClusterErrors.OWNERSHIP_LOST,
    `this instance no longer owns partition${lost.length === 1 ? "" : "s"} ${shown}${lost.length > 8 ? ", ..." : ""}; nothing was written`,
    { partitions: lost.map((lease) => lease.partition) },
  );
}
