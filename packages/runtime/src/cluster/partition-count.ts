import { ClusterErrors } from "../errors/cluster-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";

/** Partitions of a new cluster unless told otherwise; fixed once the cluster exists. */
export const DEFAULT_PARTITION_COUNT = 128;
export const MAX_PARTITION_COUNT = 65536;

/** `raw` as a partition count, or SB_CLUSTER_BAD_PARTITION_COUNT. */
export function checkPartitionCount(raw: unknown): number {
  const count = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > MAX_PARTITION_COUNT) {
    throw new SwitchboardError(
      ClusterErrors.BAD_PARTITION_COUNT,
      `the partition count must be a whole number from 1 to ${MAX_PARTITION_COUNT}, not ${String(raw)}`,
      { partitions: String(raw) },
    );
  }
  return count;
}
