import type pg from "pg";
import { partitionChannel } from "../../cluster/partition-channel.js";
import { partitionOf } from "../../cluster/partition-hash.js";
import type { NewMessage } from "../records.js";
import { lockMessagePartitionsSql } from "./message-partition-locks.js";
import { toBuffer } from "./postgres-rows.js";
import { prepared } from "./prepared.js";
import { SqlParams } from "./sql-params.js";
import type { Transaction } from "./transaction.js";

/**
 * Adds messages to their targets' partitions in one multi-row insert that also notifies each
 * partition's channel once, with the lowest seq the insert added to that partition as payload;
 * returns the messages' seqs in order. PostgreSQL delivers the notifications only when the
 * transaction commits, so an owner woken by one always finds the messages. Being one
 * statement, it needs no transaction of its own: on the pool it commits by itself (one round
 * trip for a whole group of accepts); on a transaction's connection it commits with the rest.
 * Any instance may call it; an ingress insert needs no fencing (it changes no partition's
 * state, only its inbox). The statement first takes the target partitions' message locks
 * (message-partition-locks.ts), so within a partition seqs are in commit order.
 */
export async function appendMessages(
  client: pg.Pool | Transaction,
  messages: readonly NewMessage[],
  partitionCount: number,
  acceptedAt: number | readonly number[] = Date.now(),
): Promise<number[]> {
  if (messages.length === 0) return [];
  const statement = new SqlParams();
  const { ctes, seqs } = appendMessagesSql(statement, messages, partitionCount, acceptedAt);
  const { rows } = await client.query<{ seq: string }>(
    prepared(`WITH ${ctes.join(",\n")}\n${seqs}`, statement.values),
  );
  // Identity values rise in insertion order, which unnest keeps: seq order is message order.
  return rows.map((row) => Number(row.seq));
}

export interface AppendMessagesSql {
  /**
   * The CTEs, in order, for the WITH of a statement that may write more besides: `locked`
   * (the message-partition locks), `inserted` (INSERT ... RETURNING seq, partition) and
   * `notified` (one notification per partition).
   */
  readonly ctes: readonly string[];
  /**
   * The statement's main query: the new seqs in message order. It reads `inserted` and
   * `notified`, as it must: PostgreSQL skips a SELECT CTE nobody reads.
   */
  readonly seqs: string;
}

/**
 * appendMessages's statement in parts. The locks must be held before the first seq is drawn:
 * the insert's source is gated on `locked` by an uncorrelated scalar subquery, which
 * PostgreSQL plans as an InitPlan in the One-Time Filter of the Result node that computes the
 * rows (and their `nextval`), so it runs once, before any row is produced. That keeps an
 * ingress group one self-committing statement (one round trip); an explicit transaction
 * (BEGIN, lock, insert, COMMIT) would cost three more. ingress-seq-order.test.ts checks both
 * the plan and the resulting order. When the notifications are sent within the statement
 * does not matter: they are delivered at commit.
 */
export function appendMessagesSql(
  statement: SqlParams,
  messages: readonly NewMessage[],
  partitionCount: number,
  acceptedAt: number | readonly number[],
): AppendMessagesSql {
  const partitions = messages.map((message) =>
    partitionOf(message.target.fn, message.target.id, partitionCount),
  );
  const locked = lockMessagePartitionsSql(statement, partitions);
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
    SELECT * FROM unnest(${arrays}) WHERE (SELECT n FROM locked) IS NOT NULL RETURNING seq, partition`;
  const targets = [...new Set(partitions)];
  // Per partition, the lowest seq added (decimal): an owner scanning by seq looks from there.
  const notified = `SELECT count(pg_notify(c.channel, i.low::text)) AS n
    FROM (SELECT partition, min(seq) AS low FROM inserted GROUP BY partition) AS i
    JOIN unnest(${statement.add(targets)}::integer[], ${statement.add(targets.map(partitionChannel))}::text[])
      AS c(partition, channel) USING (partition)`;
  return {
    ctes: [`locked AS (${locked})`, `inserted AS (${inserted})`, `notified AS (${notified})`],
    seqs: "SELECT inserted.seq FROM inserted CROSS JOIN notified ORDER BY inserted.seq",
  };
}
