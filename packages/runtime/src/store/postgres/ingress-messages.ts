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

/**
 * appendMessages for ingress with back-pressure: a message whose `maxWaiting` is a number is
 * stored only if its address holds fewer messages than that; the answer has undefined in its
 * place otherwise. The count is part of the same statement, so it costs no round trip of its
 * own. It sees the statement's snapshot, taken before the partition locks are granted, so
 * ingress running at once on another instance may take an address a few messages past its
 * bound: back-pressure is a soft limit across instances (one instance counts its own accepts
 * in flight, see Dispatcher.accept).
 */
export async function appendBoundedMessages(
  pool: pg.Pool,
  messages: readonly NewMessage[],
  partitionCount: number,
  acceptedAt: readonly number[],
  maxWaiting: readonly (number | null)[],
): Promise<(number | undefined)[]> {
  if (messages.length === 0) return [];
  const statement = new SqlParams();
  const partitions = messages.map((message) =>
    partitionOf(message.target.fn, message.target.id, partitionCount),
  );
  const locked = lockMessagePartitionsSql(statement, partitions);
  const arrays = messageColumns(statement, messages, partitions, acceptedAt);
  const bounds = `${statement.add(maxWaiting)}::bigint[]`;
  const candidates = `SELECT u.* FROM unnest(${arrays}, ${bounds}) WITH ORDINALITY
      AS u(partition, fn, id, caller_fn, caller_id, typename, has_value, value, accepted_at, max_waiting, ord)
    WHERE (SELECT n FROM locked) IS NOT NULL
      AND (u.max_waiting IS NULL OR u.max_waiting > (SELECT count(*) FROM messages AS m
        WHERE m.partition = u.partition AND m.fn = u.fn AND m.id = u.id))`;
  const inserted = `INSERT INTO messages (${INSERTED_COLUMNS})
    SELECT ${INSERTED_COLUMNS} FROM candidates ORDER BY ord RETURNING seq, partition`;
  // Seqs are drawn in ord order, so the k-th lowest seq belongs to the k-th candidate.
  const { rows } = await pool.query<{ ord: string; seq: string }>(
    prepared(
      `WITH locked AS (${locked}), candidates AS (${candidates}), inserted AS (${inserted}),
      notified AS (${notifySql(statement, partitions)})
      SELECT c.ord, i.seq
      FROM (SELECT ord, row_number() OVER (ORDER BY ord) AS k FROM candidates) AS c
      JOIN (SELECT seq, row_number() OVER (ORDER BY seq) AS k FROM inserted) AS i USING (k)
      CROSS JOIN notified`,
      statement.values,
    ),
  );
  const seqs: (number | undefined)[] = messages.map(() => undefined);
  for (const row of rows) seqs[Number(row.ord) - 1] = Number(row.seq);
  return seqs;
}

const INSERTED_COLUMNS = "partition, fn, id, caller_fn, caller_id, typename, has_value, value, accepted_at";

/** The message columns as typed array parameters, in INSERTED_COLUMNS order, for unnest. */
function messageColumns(
  statement: SqlParams,
  messages: readonly NewMessage[],
  partitions: readonly number[],
  acceptedAt: number | readonly number[],
): string {
  const columns: [unknown[], string][] = [
    [[...partitions], "integer"],
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
  return columns.map(([values, type]) => `${statement.add(values)}::${type}[]`).join(", ");
}

/** Per target partition, one notification carrying the lowest seq added (decimal): an owner scanning by seq looks from there. */
function notifySql(statement: SqlParams, partitions: readonly number[]): string {
  const targets = [...new Set(partitions)];
  return `SELECT count(pg_notify(c.channel, i.low::text)) AS n
    FROM (SELECT partition, min(seq) AS low FROM inserted GROUP BY partition) AS i
    JOIN unnest(${statement.add(targets)}::integer[], ${statement.add(targets.map(partitionChannel))}::text[])
      AS c(partition, channel) USING (partition)`;
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
  const arrays = messageColumns(statement, messages, partitions, acceptedAt);
  const inserted = `INSERT INTO messages (${INSERTED_COLUMNS})
    SELECT * FROM unnest(${arrays}) WHERE (SELECT n FROM locked) IS NOT NULL RETURNING seq, partition`;
  const notified = notifySql(statement, partitions);
  return {
    ctes: [`locked AS (${locked})`, `inserted AS (${inserted})`, `notified AS (${notified})`],
    seqs: "SELECT inserted.seq FROM inserted CROSS JOIN notified ORDER BY inserted.seq",
  };
}
