import type pg from "pg";
import { partitionChannel } from "../../cluster/partition-channel.js";
import { partitionOf } from "../../cluster/partition-hash.js";
import type { NewMessage } from "../records.js";
import { toBuffer } from "./postgres-rows.js";
import { prepared } from "./prepared.js";
import { SqlParams } from "./sql-params.js";
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
  const statement = new SqlParams();
  const { inserted, notified } = appendMessagesSql(statement, messages, partitionCount, acceptedAt);
  const { rows } = await client.query<{ seq: string }>(
    prepared(
      `WITH inserted AS (${inserted}), notified AS (${notified})
       SELECT inserted.seq FROM inserted CROSS JOIN notified ORDER BY inserted.seq`,
      statement.values,
    ),
  );
  // Identity values rise in insertion order, which unnest keeps: seq order is message order.
  return rows.map((row) => Number(row.seq));
}

/**
 * The two parts of appendMessages's statement, for a statement that writes more besides:
 * `inserted` (an INSERT ... RETURNING seq) and `notified` (one notification per partition).
 * Both must be CTEs the statement reads from, or PostgreSQL skips the notifications; when they
 * are sent within it does not matter, as they are delivered at commit.
 */
export function appendMessagesSql(
  statement: SqlParams,
  messages: readonly NewMessage[],
  partitionCount: number,
  acceptedAt: number | readonly number[],
): { inserted: string; notified: string } {
  const partitions = messages.map((message) =>
    partitionOf(message.target.fn, message.target.id, partitionCount),
  );
  const columns: [unknown[], string][] = [
    [partitions, "integer"],
    [messages.map((message) => message.target.fn), "text"],
    [messages.map((message) => message.target.id), "text"],
    [messages.map((message) => message.caller?.fn ?? null), "text"],
    [messages.map((message) => message.caller?.id ?? null), "text"],
    [messages.map((message) => message.argument.typename), "text"],
    [messages.map((message) => message.argument.hasValue), "boolean"],
    [messages.map((message) => toBuffer(message.argument.value)), "bytea"],
    // One time for all, or each message's own (a group of accepts from many callers).
    [typeof acceptedAt === "number" ? messages.map(() => acceptedAt) : [...acceptedAt], "bigint"],
  ];
  const arrays = columns.map(([values, type]) => `${statement.add(values)}::${type}[]`).join(", ");
  const inserted = `INSERT INTO messages (partition, fn, id, caller_fn, caller_id, typename, has_value, value, accepted_at)
    SELECT * FROM unnest(${arrays}) RETURNING seq`;
  const channels = [...new Set(partitions)].map(partitionChannel);
  const notified = `SELECT count(pg_notify(channel, '')) AS n FROM unnest(${statement.add(channels)}::text[]) AS channel`;
  return { inserted, notified };
}
