/**
 * The LISTEN/NOTIFY channel of a partition. A transaction that adds messages to a partition
 * notifies its channel (delivered only if and when it commits); the partition's owner listens
 * to the channels of the partitions it holds.
 */
export function partitionChannel(partition: number): string {
  return `sb_partition_${partition}`;
}

/** The partition a channel name stands for, or undefined for any other channel. */
export function channelPartition(channel: string): number | undefined {
  const match = /^sb_partition_(\d+)$/.exec(channel);
  return match ? Number(match[1]) : undefined;
}

/**
 * The channel instances announce membership changes on (joined, released partitions, left),
 * with the announcing instance's id as payload, so the others rebalance at once instead of at
 * their next heartbeat.
 */
export const MEMBERS_CHANNEL = "sb_members";
