import type { Ownership } from "../../cluster/ownership.js";

/**
 * What the PostgreSQL backend needs of this instance's partition ownership: which partitions
 * it holds, with which epochs, and the fencing check that proves it inside a transaction and
 * drops a partition found lost. cluster/ownership.ts's Ownership is one; a single instance
 * runs one too (alone in the cluster, its fair share is every partition), so even then every
 * owner-only write is fenced and a second instance started by mistake cannot corrupt it.
 */
export type PartitionOwner = Pick<Ownership, "owned" | "epochOf" | "fence">;

/** The partitions `owner` holds now, in partition order. */
export function ownedPartitions(owner: PartitionOwner): number[] {
  return owner.owned().map((lease) => lease.partition);
}
