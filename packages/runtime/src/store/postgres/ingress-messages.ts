import { partitionChannel } from "../../cluster/partition-channel.js";
import { partitionOf } from "../../cluster/partition-hash.js";
import type { NewMessage } from "../records.js";
import type { Transaction } from "./transaction.js";

/**
 * Adds messages to their targets' partitions in one multi-row insert and notifies each
 * partition's channel once; returns the messages' seqs in order. Call it inside the group
 * commit's transaction: PostgreSQL delivers the notifications only when that transaction
 * commits, so an owner woken by one always finds the messages. Any instance may call it; an
 * ingress insert needs no fencing (it changes no partition's state, only its inbox).
 */
export async function appendMessages(
  transaction: Transaction,
  messages: readonly NewMessage[],
  partitionCount: number,
  acceptedAt = Date.now(),
): Promise<number[]> {
  if (messages.length === 0) return [];
  const partitions = messages.map((message) =>
    partitionOf(message.target.fn, message.target.id, partitionCount),
  );
  // One round trip: the insert, then one notification per distinct partition. Identity values
  // grow in insertion order within a statement, so ORDER BY seq is the order of `messages`.
  const { rows } = await transaction.query<{ seq: string }>({
    name: "sb_append_messages",
    text: `WITH inserted AS (
       INSERT INTO messages (partition, fn, id, caller_fn, caller_id, typename, has_value, value, accepted_at)
       SELECT * FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[],
         $8::bytea[], array_fill($9::bigint, ARRAY[cardinality($1::integer[])]))
       RETURNING seq),
     notified AS (SELECT count(pg_notify(channel, '')) AS channels FROM unnest($10::text[]) AS channel)
     SELECT inserted.seq FROM inserted CROSS JOIN notified ORDER BY inserted.seq`,
    values: [
      partitions,
      messages.map((message) => message.target.fn),
      messages.map((message) => message.target.id),
      messages.map((message) => message.caller?.fn ?? null),
      messages.map((message) => message.caller?.id ?? null),
      messages.map((message) => message.argument.typename),
      messages.map((message) => message.argument.hasValue),
      messages.map((message) =>
        Buffer.from(
          message.argument.value.buffer,
          message.argument.value.byteOffset,
          message.argument.value.byteLength,
        ),
      ),
      acceptedAt,
      [...new Set(partitions)].map(partitionChannel),
    ],
  });
  return rows.map((row) => Number(row.seq));
}
