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
import { appendMessagesSql } from "./ingress-messages.js";
import { lockMessagePartitions } from "./message-partition-locks.js";
import { toBuffer } from "./postgres-rows.js";
import { prepared } from "./prepared.js";
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
 * Whether `writes` may be written together by writeResults: no two of them write for the same
 * address (its state rows, its timers' tokens). Two writes of one address in one statement
 * could touch one row twice, which PostgreSQL resolves in no defined order.
 */
export function writeDisjointAddresses(writes: readonly ResultWrite[]): boolean {
  const seen = new Set<string>();
  for (const write of writes) {
    const keys = new Set([addressKey(write.address)]);
    for (const action of write.plan.delayed)
      if (action.kind === "schedule") keys.add(addressKey(action.timer.sender));
    for (const key of keys) {
      if (seen.has(key)) return false;
      seen.add(key);
    }
  }
  return true;
}

/**
 * Writes results inside `transaction` (fenced by the caller) with the effect of applying each
 * plan step by step in StateFun's order (the SQLite store's ../apply-result.ts), in a fixed number of
 * statements however many results there are: the timers' net effect (one delete, one
 * insert, when there are timers), then one statement for everything else (outgoing messages
 * and their notifications, egress, state, the AFTER_INVOKE refresh, consumed batches,
 * suspensions). The order of writes inside the transaction changes nothing: no step reads
 * what another wrote. The outgoing messages' partition locks are taken in that one statement,
 * after the timer rows (the order message-partition-locks.ts prescribes); a transaction that
 * calls this more than once must take all its locks first (lockResultRowsAhead).
 * With several results their addresses must be disjoint (writeDisjointAddresses).
 */
export async function writeResults(
  transaction: Transaction,
  writes: readonly ResultWrite[],
  partitionCount: number,
): Promise<AppliedResult[]> {
  if (writes.length === 0) return [];
  const earliest = await writeTimers(transaction, writes, partitionCount);

  const statement = new SqlParams();
  const partitions = writes.map((write) => partitionOf(write.address.fn, write.address.id, partitionCount));
  const messages = writes.flatMap((write) => write.plan.outgoing);
  const ctes: string[] = [];
  // Data-modifying CTEs run whether read or not; the outgoing seqs are what comes back.
  let select = "SELECT NULL::bigint AS seq WHERE false";
  if (messages.length > 0) {
    const times = writes.flatMap((write) => write.plan.outgoing.map(() => write.now));
    const append = appendMessagesSql(statement, messages, partitionCount, times);
    ctes.push(...append.ctes);
    select = append.seqs;
  }
  const parts = [
    ...egressInsert(statement, writes, partitions),
    ...stateWrites(statement, writes, partitions),
    ...consumedDelete(statement, writes),
    ...suspensionDelete(statement, writes, partitions),
  ];
  ctes.push(...parts.map((part, index) => `w${index} AS (${part})`));
  let seqs: number[] = [];
  if (ctes.length > 0) {
    const { rows } = await transaction.query<{ seq: string }>(
      prepared(`WITH ${ctes.join(",\n")}\n${select}`, statement.values),
    );
    seqs = rows.map((row) => Number(row.seq));
  }
  const outgoing = splitOutgoing(writes, seqs);

  return writes.map((write, index) => {
    const earliestTimer = earliest[index];
    const { egress } = write.plan;
    return {
      outgoing: outgoing[index] as StoredMessage[],
      ...(earliestTimer !== undefined ? { earliestTimer } : {}),
      egressIds: egress.length === 0 ? NO_EGRESS : new Set(egress.map((record) => record.egress)),
    };
  });
}

/**
 * For a transaction that writes `writes` one by one (one writeResults call each, in a savepoint
 * each), takes up front the locks those calls would take one after the other: first the
 * pending timers their timer writes will delete, then, in one statement and ascending order,
 * the message-partition locks of all their outgoing messages. Taken call by call, two such
 * transactions could lock partitions in opposite orders, or one could hold a partition's lock
 * while waiting for a timer that a timer sweep holds while waiting for that same lock.
 */
export async function lockResultRowsAhead(
  transaction: Transaction,
  writes: readonly ResultWrite[],
  partitionCount: number,
): Promise<void> {
  const touched = writes.flatMap((write) => netTimers(write.address, write.plan.delayed).touched);
  if (touched.length > 0) {
    await transaction.query(
      prepared(
        `SELECT 1 FROM timers t JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(fn, id, token)
           ON t.sender_fn = k.fn AND t.sender_id = k.id AND t.token = k.token
         ORDER BY t.seq FOR UPDATE OF t`,
        [
          touched.map((key) => key.sender.fn),
          touched.map((key) => key.sender.id),
          touched.map((key) => key.token),
        ],
      ),
    );
  }
  const targets = writes.flatMap((write) =>
    write.plan.outgoing.map((message) => partitionOf(message.target.fn, message.target.id, partitionCount)),
  );
  await lockMessagePartitions(transaction, targets);
}

/** Each write's outgoing messages as stored, from the seqs of all of them in order. */
function splitOutgoing(writes: readonly ResultWrite[], seqs: readonly number[]): StoredMessage[][] {
  let next = 0;
  return writes.map((write) =>
    write.plan.outgoing.map((message) => ({
      ...message,
      seq: seqs[next++] as number,
      acceptedAt: write.now,
    })),
  );
}

/**
 * Delayed messages and cancellations in list order, as their net effect: per (sender, token)
 * only the last action counts (schedule twice = the second replaces the first; schedule then
 * cancel = nothing), and any pending timer with a touched token goes. Returns, per write, the
 * earliest due time it scheduled, as the step-by-step order reports it.
 */
async function writeTimers(
  transaction: Transaction,
  writes: readonly ResultWrite[],
  partitionCount: number,
): Promise<(number | undefined)[]> {
  const earliest: (number | undefined)[] = [];
  const touched: { sender: AddressRef; token: string }[] = [];
  const survivors: NewTimer[] = [];
  for (const write of writes) {
    const net = netTimers(write.address, write.plan.delayed);
    earliest.push(net.earliest);
    touched.push(...net.touched);
    survivors.push(...net.survivors);
  }
  if (touched.length > 0) {
    await transaction.query(
      prepared(
        `DELETE FROM timers t USING unnest($1::text[], $2::text[], $3::text[]) AS k(fn, id, token)
       WHERE t.sender_fn = k.fn AND t.sender_id = k.id AND t.token = k.token`,
        [
          touched.map((key) => key.sender.fn),
          touched.map((key) => key.sender.id),
          touched.map((key) => key.token),
        ],
      ),
    );
  }
  if (survivors.length > 0) {
    await transaction.query(
      prepared(
        `INSERT INTO timers (partition, sender_fn, sender_id, token, due_at, target_fn, target_id, typename, has_value, value)
       SELECT * FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[],
         $8::text[], $9::boolean[], $10::bytea[])`,
        [
          survivors.map((timer) => partitionOf(timer.sender.fn, timer.sender.id, partitionCount)),
          survivors.map((timer) => timer.sender.fn),
          survivors.map((timer) => timer.sender.id),
          survivors.map((timer) => timer.token ?? null),
          survivors.map((timer) => timer.dueAt),
          survivors.map((timer) => timer.message.target.fn),
          survivors.map((timer) => timer.message.target.id),
          survivors.map((timer) => timer.message.argument.typename),
          survivors.map((timer) => timer.message.argument.hasValue),
          survivors.map((timer) => toBuffer(timer.message.argument.value)),
        ],
      ),
    );
  }
  return earliest;
}

function netTimers(self: AddressRef, delayed: readonly DelayedAction[]) {
  let earliest: number | undefined;
  const touched = new Map<string, { sender: AddressRef; token: string }>();
  const last = new Map<string, DelayedAction>();
  for (const action of delayed) {
    const sender = action.kind === "cancel" ? self : action.timer.sender;
    const token = action.kind === "cancel" ? action.token : action.timer.token;
    if (action.kind === "schedule")
      earliest = Math.min(earliest ?? Number.POSITIVE_INFINITY, action.timer.dueAt);
    if (!token) continue;
    const key = `${addressKey(sender)}\u0000${token}`;
    touched.set(key, { sender, token });
    last.set(key, action);
  }
  const survivors: NewTimer[] = [];
  for (const action of delayed) {
    if (action.kind !== "schedule") continue;
    const { sender, token } = action.timer;
    if (!token || last.get(`${addressKey(sender)}\u0000${token}`) === action) survivors.push(action.timer);
  }
  return { earliest, touched: [...touched.values()], survivors };
}

function egressInsert(
  statement: SqlParams,
  writes: readonly ResultWrite[],
  partitions: readonly number[],
): string[] {
  const rows = writes.flatMap((write, index) =>
    write.plan.egress.map((record) => ({ record, partition: partitions[index], now: write.now })),
  );
  if (rows.length === 0) return [];
  return [
    `INSERT INTO egress (partition, egress, topic, typename, value, created_at)
     SELECT * FROM unnest(${statement.add(rows.map((row) => row.partition))}::integer[],
       ${statement.add(rows.map((row) => row.record.egress))}::text[],
       ${statement.add(rows.map((row) => row.record.topic ?? null))}::text[],
       ${statement.add(rows.map((row) => row.record.typename))}::text[],
       ${statement.add(rows.map((row) => toBuffer(row.record.value)))}::bytea[],
       ${statement.add(rows.map((row) => row.now))}::bigint[])`,
  ];
}

interface StateRowKey {
  readonly partition: number;
  readonly self: AddressRef;
  readonly name: string;
}

/**
 * State mutations as their net effect per name (the last mutation of a name wins), then the
 * AFTER_INVOKE refresh of every registered spec a result did not mutate. The three touch
 * disjoint rows, which is what lets them share one statement.
 */
function stateWrites(
  statement: SqlParams,
  writes: readonly ResultWrite[],
  partitions: readonly number[],
): string[] {
  const puts: (StateRowKey & { value: Uint8Array; expiresAt: number | null })[] = [];
  const deletes: StateRowKey[] = [];
  const touches: (StateRowKey & { expiresAt: number; now: number })[] = [];
  writes.forEach((write, index) => {
    const partition = partitions[index] as number;
    const self = write.address;
    const last = new Map<string, StateMutation>();
    for (const mutation of write.plan.mutations) last.set(mutation.spec.name, mutation);
    for (const [name, mutation] of last) {
      if (mutation.kind === "delete") deletes.push({ partition, self, name });
      else
        puts.push({
          partition,
          self,
          name,
          value: mutation.value,
          expiresAt: expiryOf(mutation.spec, write.now),
        });
    }
    for (const spec of write.specs) {
      if (spec.expireMode === ExpireMode.AFTER_INVOKE && !last.has(spec.name)) {
        touches.push({
          partition,
          self,
          name: spec.name,
          expiresAt: write.now + spec.expireAfterMs,
          now: write.now,
        });
      }
    }
  });
  const keyColumns = (rows: readonly StateRowKey[]) =>
    `${statement.add(rows.map((row) => row.partition))}::integer[], ${statement.add(rows.map((row) => row.self.fn))}::text[],
     ${statement.add(rows.map((row) => row.self.id))}::text[], ${statement.add(rows.map((row) => row.name))}::text[]`;
  const parts: string[] = [];
  if (puts.length > 0) {
    parts.push(
      `INSERT INTO state (partition, fn, id, name, value, expires_at)
       SELECT * FROM unnest(${keyColumns(puts)}, ${statement.add(puts.map((row) => toBuffer(row.value)))}::bytea[],
         ${statement.add(puts.map((row) => row.expiresAt))}::bigint[])
       ON CONFLICT (partition, fn, id, name) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    );
  }
  if (deletes.length > 0) {
    parts.push(
      `DELETE FROM state s USING unnest(${keyColumns(deletes)}) AS d(p, f, i, n)
       WHERE s.partition = d.p AND s.fn = d.f AND s.id = d.i AND s.name = d.n`,
    );
  }
  if (touches.length > 0) {
    // Expired values stay expired: only live ones have their expiry moved.
    parts.push(
      `UPDATE state s SET expires_at = t.x
       FROM unnest(${keyColumns(touches)}, ${statement.add(touches.map((row) => row.expiresAt))}::bigint[],
         ${statement.add(touches.map((row) => row.now))}::bigint[]) AS t(p, f, i, n, x, now)
       WHERE s.partition = t.p AND s.fn = t.f AND s.id = t.i AND s.name = t.n
         AND (s.expires_at IS NULL OR s.expires_at > t.now)`,
    );
  }
  return parts;
}

function consumedDelete(statement: SqlParams, writes: readonly ResultWrite[]): string[] {
  const seqs = writes.flatMap((write) => write.consumed);
  if (seqs.length === 0) return [];
  return [`DELETE FROM messages WHERE seq = ANY(${statement.add(seqs)}::bigint[])`];
}

function suspensionDelete(
  statement: SqlParams,
  writes: readonly ResultWrite[],
  partitions: readonly number[],
): string[] {
  const cleared = writes.flatMap((write, index) =>
    write.clearSuspension ? [{ partition: partitions[index], self: write.address }] : [],
  );
  if (cleared.length === 0) return [];
  return [
    `DELETE FROM suspensions s USING unnest(${statement.add(cleared.map((row) => row.partition))}::integer[],
       ${statement.add(cleared.map((row) => row.self.fn))}::text[], ${statement.add(cleared.map((row) => row.self.id))}::text[]) AS c(p, f, i)
     WHERE s.partition = c.p AND s.fn = c.f AND s.id = c.i`,
  ];
}

function addressKey(address: AddressRef): string {
  return `${address.fn}\u0000${address.id}`;
}

/** The same rule as the SQLite store's ../apply-result.ts: no expiry for NONE or a non-positive duration. */
function expiryOf(spec: StateSpec, now: number): number | null {
  if (spec.expireMode === ExpireMode.NONE || spec.expireAfterMs <= 0) return null;
  return now + spec.expireAfterMs;
}
