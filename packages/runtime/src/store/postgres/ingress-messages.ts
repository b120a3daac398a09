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
  acceptedAt: number | readonly number[] = Date.now(),
): Promise<number[]> {
  if (messages.length === 0) return [];
  const partitions = messages.map((message) =>
    partitionOf(message.target.fn, message.target.id, partitionCount),
  );
  const { rows } = await transaction.query<{ seq: string }>(
    `INSERT INTO messages (partition, fn, id, caller_fn, caller_id, typename, has_value, value, accepted_at)
     SELECT * FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::bytea[], $9::bigint[])
     RETURNING seq`,
    [
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
      // One time for all, or each message's own (a group of accepts from many callers).
      typeof acceptedAt === "number" ? messages.map(() => acceptedAt) : acceptedAt,
    ],
  );
  await notifyPartitions(transaction, partitions);
  // RETURNING follows the order of the inserted rows, which unnest keeps.
  return rows.map((row) => Number(row.seq));
}

/** Notifies each distinct partition's channel once, on commit of `transaction`. */
export async function notifyPartitions(
  transaction: Transaction,
  partitions: readonly number[],
): Promise<void> {
  const channels = [...new Set(partitions)].map(partitionChannel);
  if (channels.length === 0) return;
  await transaction.query("SELECT pg_notify(channel, '') FROM unnest($1::text[]) AS channel", [channels]);
}
