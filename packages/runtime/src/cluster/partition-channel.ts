/**
 * The LISTEN/NOTIFY channel of a partition. A transaction that adds messages to a partition
 * notifies its channel (delivered only if and when it commits), with the lowest seq it added
 * there as payload (notifiedMinSeq); the partition's owner listens to the channels of the
 * partitions it holds.
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
 * The lowest seq a notified transaction added to the partition, read from the notification's
 * payload (a decimal string). Seqs are in commit order within a partition but not across
 * partitions, so an owner scanning all its partitions by seq must look again from just below
 * this one. Undefined when the payload is missing or not a seq (an older writer, a hand-made
 * NOTIFY): then the owner must look from the start.
 */
export function notifiedMinSeq(payload: string | undefined): number | undefined {
  if (payload === undefined || !/^\d{1,16}$/.test(payload)) return undefined;
  const seq = Number(payload);
  return Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
}

/**
 * The channel instances announce membership changes on (joined, released partitions, left),
 * with the announcing instance's id as payload, so the others rebalance at once instead of at
 * their next heartbeat.
 */
export const MEMBERS_CHANNEL = "sb_members";
