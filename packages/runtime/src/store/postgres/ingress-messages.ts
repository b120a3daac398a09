import type pg from "pg";
import { partitionChannel } from "../../cluster/partition-channel.js";
import { partitionOf } from "../../cluster/partition-hash.js";
import type { NewMessage } from "../records.js";
import type { Transaction } from "./transaction.js";

/**
 * Adds messages to their targets' partitions in one multi-row insert that also notifies each
 * partition's channel once; returns the messages' seqs in order. PostgreSQL delivers the
 * notifications only when the transaction commits, so an owner woken by one always finds the
 * messages. Being one statement, it needs no transaction of its own: on the pool it commits
 * by itself (one round trip for a whole group of accepts); on a transaction's connection it
 * commits with the rest. Any instance may call it; an ingress insert needs no fencing (it
 * changes no partition's state, only its inbox).
 */
export async function appendMessages(
  client: pg.Pool | Transaction,
  messages: readonly NewMessage[],
  partitionCount: number,
  acceptedAt: number | readonly number[] = Date.now(),
): Promise<number[]> {
  if (messages.length === 0) return [];
  const partitions = messages.map((message) =>
    partitionOf(message.target.fn, message.target.id, partitionCount),
  );
  // The notifications are counted so the statement cannot skip them; when they are sent
  // within it does not matter, as PostgreSQL delivers them at commit.
  const { rows } = await client.query<{ seq: string }>(
    `WITH inserted AS (
       INSERT INTO messages (partition, fn, id, caller_fn, caller_id, typename, has_value, value, accepted_at)
       SELECT * FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::bytea[], $9::bigint[])
       RETURNING seq),
     notified AS (SELECT count(pg_notify(channel, '')) AS n FROM unnest($10::text[]) AS channel)
     SELECT inserted.seq FROM inserted CROSS JOIN notified ORDER BY inserted.seq`,
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
      [...new Set(partitions)].map(partitionChannel),
    ],
  );
  // Identity values rise in insertion order, which unnest keeps: seq order is message order.
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
