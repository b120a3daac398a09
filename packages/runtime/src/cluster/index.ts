/**
 * Cluster mode's building blocks, for the runtime to wire (docs/cluster.md): which partition
 * an address is in, who owns it, the fencing check, and the wake-ups that tell an owner to look.
 */
export { fairShare } from "./assignment.js";
export { assertEpochs } from "./fencing.js";
export { DEFAULT_LEASE_MS, Ownership } from "./ownership.js";
export type {
  OwnershipChange,
  OwnershipChangeReason,
  OwnershipListener,
  OwnershipOptions,
  PartitionLease,
} from "./ownership-types.js";
export { channelPartition, notifiedMinSeq, partitionChannel } from "./partition-channel.js";
export { checkPartitionCount, DEFAULT_PARTITION_COUNT, MAX_PARTITION_COUNT } from "./partition-count.js";
export { addressHash, partitionOf } from "./partition-hash.js";
export { PartitionListener, type PartitionListenerOptions } from "./partition-listener.js";
export { PartitionWakeups, type PartitionWakeupsOptions, type WakeupReason } from "./partition-wakeups.js";
