import type pg from "pg";
import type { StoredMessage } from "../records.js";

export interface PartitionMessage extends StoredMessage {
  readonly partition: number;
}

/**
 * The catch-up query: messages in `partitions` with a seq above `afterSeq`, oldest first, at
 * most `limit`. An owner runs it when it gains partitions and after its listener reconnects,
 * to find messages whose notification it never heard. Served by messages_by_partition.
 */
export async function readMessagesAfter(
  client: pg.Pool | pg.PoolClient,
  partitions: readonly number[],
  afterSeq: number,
  limit: number,
): Promise<PartitionMessage[]> {
  if (partitions.length === 0) return [];
  const { rows } = await client.query<{
    seq: string;
    partition: number;
    fn: string;
    id: string;
    caller_fn: string | null;
    caller_id: string | null;
    typename: string;
    has_value: boolean;
    value: Buffer | null;
    accepted_at: string;
  }>(
    `SELECT seq, partition, fn, id, caller_fn, caller_id, typename, has_value, value, accepted_at
     FROM messages WHERE partition = ANY($1::integer[]) AND seq > $2 ORDER BY seq LIMIT $3`,
    [partitions, afterSeq, limit],
  );
  return rows.map((row) => ({
    seq: Number(row.seq),
    partition: row.partition,
    target: { fn: row.fn, id: row.id },
    ...(row.caller_fn !== null && row.caller_id !== null
      ? { caller: { fn: row.caller_fn, id: row.caller_id } }
      : {}),
    argument: { typename: row.typename, hasValue: row.has_value, value: row.value ?? new Uint8Array(0) },
    acceptedAt: Number(row.accepted_at),
  }));
}
