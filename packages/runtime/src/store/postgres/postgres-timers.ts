import type pg from "pg";
import type { TimerStore } from "../contract.js";
import type { AddressRef, StoredMessage, StoredTimer } from "../records.js";
import { appendMessages } from "./ingress-messages.js";
import { ownedPartitions, type PartitionOwner } from "./partition-owner.js";
import { type TimerRow, toTimer } from "./postgres-rows.js";
import { readRows } from "./read-rows.js";
import { inTransaction } from "./transaction.js";

const TIMER_COLUMNS =
  "seq, sender_fn, sender_id, token, due_at, target_fn, target_id, typename, has_value, value";

/** Pending delayed messages, filed under their sender's partition: its owner fires them. */
export class PostgresTimers implements TimerStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly partitionCount: number,
    private readonly owner: PartitionOwner,
  ) {}

  async nextDueAt(): Promise<number | undefined> {
    const partitions = ownedPartitions(this.owner);
    if (partitions.length === 0) return undefined;
    const [row] = await readRows<{ due: string | null }>(
      this.pool,
      "SELECT min(due_at) AS due FROM timers WHERE partition = ANY($1::integer[])",
      [partitions],
    );
    return row?.due == null ? undefined : Number(row.due);
  }

  /**
   * Fences every owned partition first (share locks in partition order, before any timer row
   * is locked, so this never deadlocks with a lease renewal or a result's timer writes), then
   * deletes the due timers it can lock (SKIP LOCKED: concurrent callers take distinct ones)
   * and stores their messages, notifying the targets' partitions on commit. The messages'
   * partition locks come last, after the timer rows (see message-partition-locks.ts).
   */
  fireDue(now: number, limit: number): Promise<StoredMessage[]> {
    const partitions = ownedPartitions(this.owner);
    if (partitions.length === 0 || limit <= 0) return Promise.resolve([]);
    return inTransaction(this.pool, async (transaction) => {
      await this.owner.fence(transaction, partitions);
      const { rows } = await transaction.query<TimerRow>(
        `DELETE FROM timers WHERE seq IN (
           SELECT seq FROM timers WHERE partition = ANY($1::integer[]) AND due_at <= $2
           ORDER BY due_at, seq LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING ${TIMER_COLUMNS}`,
        [partitions, now, limit],
      );
      if (rows.length === 0) return [];
      const timers = rows.map(toTimer).sort((a, b) => a.dueAt - b.dueAt || a.seq - b.seq);
      const messages = timers.map((timer) => timer.message);
      const seqs = await appendMessages(transaction, messages, this.partitionCount, now);
      return messages.map((message, index) => ({ ...message, seq: seqs[index] as number, acceptedAt: now }));
    });
  }

  async sentBy(address: AddressRef): Promise<StoredTimer[]> {
    const rows = await readRows<TimerRow>(
      this.pool,
      `SELECT ${TIMER_COLUMNS} FROM timers WHERE sender_fn = $1 AND sender_id = $2 ORDER BY due_at, seq`,
      [address.fn, address.id],
    );
    return rows.map(toTimer);
  }

  /** Admin read-outs only: a scan is fine, an index would cost every timer write. */
  async aimedAt(address: AddressRef): Promise<StoredTimer[]> {
    const rows = await readRows<TimerRow>(
      this.pool,
      `SELECT ${TIMER_COLUMNS} FROM timers WHERE target_fn = $1 AND target_id = $2 ORDER BY due_at, seq`,
      [address.fn, address.id],
    );
    return rows.map(toTimer);
  }

  async count(): Promise<number> {
    const [row] = await readRows<{ n: number }>(this.pool, "SELECT count(*)::integer AS n FROM timers");
    return row?.n ?? 0;
  }
}
