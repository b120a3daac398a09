import { partitionOf } from "../../cluster/partition-hash.js";
import type { AppliedResult, ResultWrite } from "../contract.js";
import {
  type AddressRef,
  type DelayedAction,
  ExpireMode,
  type NewTimer,
  type StateMutation,
  type StateSpec,
  type StoredMessage,
} from "../records.js";
import { appendMessages } from "./ingress-messages.js";
import { toBuffer } from "./postgres-rows.js";
import { SqlParams } from "./sql-params.js";
import type { Transaction } from "./transaction.js";

const NO_EGRESS: ReadonlySet<string> = new Set();

/** The partitions a result writes for: its address's, and its timers' senders' (the same in practice). */
export function resultPartitions(write: ResultWrite, partitionCount: number): number[] {
  const partitions = new Set([partitionOf(write.address.fn, write.address.id, partitionCount)]);
  for (const action of write.plan.delayed) {
    if (action.kind === "schedule") {
      partitions.add(partitionOf(action.timer.sender.fn, action.timer.sender.id, partitionCount));
    }
  }
  return [...partitions];
}

/**
 * Writes a result inside `transaction` (fenced by the caller) with the effect of applying the
 * plan step by step in StateFun's order (dispatch/commit-result.ts), in as few statements as
 * that allows: the outgoing messages (an insert and its notification), the timers' net
 * effect (one delete, one insert), then one statement for everything else (egress, state,
 * the AFTER_INVOKE refresh, the consumed batch, the suspension).
 */
export async function writeResult(
  transaction: Transaction,
  write: ResultWrite,
  partitionCount: number,
): Promise<AppliedResult> {
  const { address, plan, now } = write;
  const partition = partitionOf(address.fn, address.id, partitionCount);

  let outgoing: StoredMessage[] = [];
  if (plan.outgoing.length > 0) {
    const seqs = await appendMessages(transaction, plan.outgoing, partitionCount, now);
    outgoing = plan.outgoing.map((message, index) => ({
      ...message,
      seq: seqs[index] as number,
      acceptedAt: now,
    }));
  }

  const earliestTimer = await writeTimers(transaction, address, plan.delayed, partitionCount);

  const statement = new SqlParams();
  const parts = [
    ...egressInsert(statement, partition, write),
    ...stateWrites(statement, partition, address, plan.mutations, write.specs, now),
    ...consumedDelete(statement, write.consumed),
    ...(write.clearSuspension ? [suspensionDelete(statement, partition, address)] : []),
  ];
  if (parts.length > 0) {
    const ctes = parts.map((part, index) => `w${index} AS (${part})`).join(",\n");
    await transaction.query(`WITH ${ctes}\nSELECT 1`, statement.values);
  }

  const egressIds =
    plan.egress.length === 0 ? NO_EGRESS : new Set(plan.egress.map((record) => record.egress));
  return { outgoing, ...(earliestTimer !== undefined ? { earliestTimer } : {}), egressIds };
}

/**
 * Delayed messages and cancellations in list order, as their net effect: per (sender, token)
 * only the last action counts (schedule twice = the second replaces the first; schedule then
 * cancel = nothing), and any pending timer with a touched token goes. Returns the earliest
 * due time scheduled, as the step-by-step order reports it.
 */
async function writeTimers(
  transaction: Transaction,
  self: AddressRef,
  delayed: readonly DelayedAction[],
  partitionCount: number,
): Promise<number | undefined> {
  if (delayed.length === 0) return undefined;
  let earliest: number | undefined;
  const touched = new Map<string, { sender: AddressRef; token: string }>();
  const lastByToken = new Map<string, DelayedAction>();
  for (const action of delayed) {
    const sender = action.kind === "cancel" ? self : action.timer.sender;
    const token = action.kind === "cancel" ? action.token : action.timer.token;
    if (action.kind === "schedule")
      earliest = Math.min(earliest ?? Number.POSITIVE_INFINITY, action.timer.dueAt);
    if (!token) continue;
    const key = `${sender.fn}\u0000${sender.id}\u0000${token}`;
    touched.set(key, { sender, token });
    lastByToken.set(key, action);
  }
  const survivors = delayed.filter(
    (action): action is { kind: "schedule"; timer: NewTimer } =>
      action.kind === "schedule" && (!action.timer.token || isLast(lastByToken, action)),
  );
  if (touched.size > 0) {
    const keys = [...touched.values()];
    await transaction.query(
      `DELETE FROM timers t USING unnest($1::text[], $2::text[], $3::text[]) AS k(fn, id, token)
       WHERE t.sender_fn = k.fn AND t.sender_id = k.id AND t.token = k.token`,
      [keys.map((key) => key.sender.fn), keys.map((key) => key.sender.id), keys.map((key) => key.token)],
    );
  }
  if (survivors.length > 0) {
    const timers = survivors.map((action) => action.timer);
    await transaction.query(
      `INSERT INTO timers (partition, sender_fn, sender_id, token, due_at, target_fn, target_id, typename, has_value, value)
       SELECT * FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[],
         $8::text[], $9::boolean[], $10::bytea[])`,
      [
        timers.map((timer) => partitionOf(timer.sender.fn, timer.sender.id, partitionCount)),
        timers.map((timer) => timer.sender.fn),
        timers.map((timer) => timer.sender.id),
        timers.map((timer) => timer.token || null),
        timers.map((timer) => timer.dueAt),
        timers.map((timer) => timer.message.target.fn),
        timers.map((timer) => timer.message.target.id),
        timers.map((timer) => timer.message.argument.typename),
        timers.map((timer) => timer.message.argument.hasValue),
        timers.map((timer) => toBuffer(timer.message.argument.value)),
      ],
    );
  }
  return earliest;
}

function isLast(lastByToken: ReadonlyMap<string, DelayedAction>, action: { timer: NewTimer }): boolean {
  const { sender, token } = action.timer;
  return lastByToken.get(`${sender.fn}\u0000${sender.id}\u0000${token}`) === action;
}

function egressInsert(statement: SqlParams, partition: number, write: ResultWrite): string[] {
  const records = write.plan.egress;
  if (records.length === 0) return [];
  return [
    `INSERT INTO egress (partition, egress, topic, typename, value, created_at)
     SELECT ${statement.add(partition)}::integer, e, t, ty, v, ${statement.add(write.now)}::bigint
     FROM unnest(${statement.add(records.map((record) => record.egress))}::text[],
       ${statement.add(records.map((record) => record.topic ?? null))}::text[],
       ${statement.add(records.map((record) => record.typename))}::text[],
       ${statement.add(records.map((record) => toBuffer(record.value)))}::bytea[]) AS r(e, t, ty, v)`,
  ];
}

/**
 * State mutations as their net effect per name (the last mutation of a name wins), then the
 * AFTER_INVOKE refresh of every registered spec the result did not mutate. The three touch
 * disjoint rows, which is what lets them share one statement.
 */
function stateWrites(
  statement: SqlParams,
  partition: number,
  self: AddressRef,
  mutations: readonly StateMutation[],
  specs: readonly StateSpec[],
  now: number,
): string[] {
  const last = new Map<string, StateMutation>();
  for (const mutation of mutations) last.set(mutation.spec.name, mutation);
  const puts = [...last.values()].filter((mutation) => mutation.kind === "modify");
  const deletes = [...last.values()].filter((mutation) => mutation.kind === "delete");
  const touched = specs.filter((spec) => spec.expireMode === ExpireMode.AFTER_INVOKE && !last.has(spec.name));
  const where = () =>
    `partition = ${statement.add(partition)}::integer AND fn = ${statement.add(self.fn)}::text AND id = ${statement.add(self.id)}::text`;
  const parts: string[] = [];
  if (puts.length > 0) {
    parts.push(
      `INSERT INTO state (partition, fn, id, name, value, expires_at)
       SELECT ${statement.add(partition)}::integer, ${statement.add(self.fn)}::text, ${statement.add(self.id)}::text, n, v, x
       FROM unnest(${statement.add(puts.map((mutation) => mutation.spec.name))}::text[],
         ${statement.add(puts.map((mutation) => toBuffer(mutation.value)))}::bytea[],
         ${statement.add(puts.map((mutation) => expiryOf(mutation.spec, now)))}::bigint[]) AS m(n, v, x)
       ON CONFLICT (partition, fn, id, name) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    );
  }
  if (deletes.length > 0) {
    parts.push(
      `DELETE FROM state WHERE ${where()} AND name = ANY(${statement.add(deletes.map((mutation) => mutation.spec.name))}::text[])`,
    );
  }
  if (touched.length > 0) {
    // Expired values stay expired: only live ones have their expiry moved.
    parts.push(
      `UPDATE state SET expires_at = t.x
       FROM unnest(${statement.add(touched.map((spec) => spec.name))}::text[],
         ${statement.add(touched.map((spec) => now + spec.expireAfterMs))}::bigint[]) AS t(n, x)
       WHERE ${where()} AND name = t.n AND (expires_at IS NULL OR expires_at > ${statement.add(now)}::bigint)`,
    );
  }
  return parts;
}

function consumedDelete(statement: SqlParams, consumed: readonly number[]): string[] {
  if (consumed.length === 0) return [];
  return [`DELETE FROM messages WHERE seq = ANY(${statement.add(consumed)}::bigint[])`];
}

function suspensionDelete(statement: SqlParams, partition: number, self: AddressRef): string {
  return `DELETE FROM suspensions WHERE partition = ${statement.add(partition)}::integer
    AND fn = ${statement.add(self.fn)}::text AND id = ${statement.add(self.id)}::text`;
}

/** The same rule as dispatch/commit-result.ts: no expiry for NONE or a non-positive duration. */
function expiryOf(spec: StateSpec, now: number): number | null {
  if (spec.expireMode === ExpireMode.NONE || spec.expireAfterMs <= 0) return null;
  return now + spec.expireAfterMs;
}
