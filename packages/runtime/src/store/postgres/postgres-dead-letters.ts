import type pg from "pg";
import { partitionOf } from "../../cluster/partition-hash.js";
import type { DeadLetterStore } from "../contract.js";
import type { AddressRef, DeadLetter, StoredMessage } from "../records.js";
import type { FencedUnits } from "./fenced-units.js";
import { appendMessages } from "./ingress-messages.js";
import { type DeadLetterRow, MESSAGE_COLUMNS, toDeadLetter, toMessage } from "./postgres-rows.js";
import { readRows } from "./read-rows.js";
import { inTransaction } from "./transaction.js";

const DEAD_LETTER_COLUMNS = `${MESSAGE_COLUMNS}, original_seq, error_code, error_message, dead_lettered_at`;

/** The dead-letter store: filled by an address's owner, read and emptied by any instance's operator. */
export class PostgresDeadLetters implements DeadLetterStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly partitionCount: number,
    private readonly fenced: FencedUnits,
  ) {}

  /** One statement moves the rows (the dead letters' seqs follow the messages' order), one clears the suspension. */
  moveBacklog(
    address: AddressRef,
    error: { code: string; message: string },
    now: number,
  ): Promise<DeadLetter[]> {
    const partition = partitionOf(address.fn, address.id, this.partitionCount);
    return this.fenced.submit({
      partitions: [partition],
      work: async (transaction) => {
        const { rows } = await transaction.query<DeadLetterRow>(
          `WITH moved AS (DELETE FROM messages WHERE partition = $1 AND fn = $2 AND id = $3 RETURNING *)
           INSERT INTO dead_letters (partition, fn, id, caller_fn, caller_id, typename, has_value, value, accepted_at,
             original_seq, error_code, error_message, dead_lettered_at)
           SELECT partition, fn, id, caller_fn, caller_id, typename, has_value, value, accepted_at, seq, $4, $5, $6
           FROM moved ORDER BY seq
           RETURNING ${DEAD_LETTER_COLUMNS}`,
          [partition, address.fn, address.id, error.code, error.message, now],
        );
        await transaction.query("DELETE FROM suspensions WHERE partition = $1 AND fn = $2 AND id = $3", [
          partition,
          address.fn,
          address.id,
        ]);
        return rows.map(toDeadLetter).sort((a, b) => a.message.seq - b.message.seq);
      },
    });
  }

  /** Any instance may: like an ingress accept, it notifies the target's partition on commit. */
  reinject(seq: number, now: number): Promise<StoredMessage | undefined> {
    return inTransaction(this.pool, async (transaction) => {
      const { rows } = await transaction.query<DeadLetterRow>(
        `DELETE FROM dead_letters WHERE seq = $1 RETURNING ${DEAD_LETTER_COLUMNS}`,
        [seq],
      );
      const row = rows[0];
      if (!row) return undefined;
      const { target, caller, argument } = toMessage(row);
      const message = { target, ...(caller ? { caller } : {}), argument };
      const [stored] = await appendMessages(transaction, [message], this.partitionCount, now);
      return { ...message, seq: stored as number, acceptedAt: now };
    });
  }

  async drop(seq: number): Promise<boolean> {
    const rows = await readRows(this.pool, "DELETE FROM dead_letters WHERE seq = $1 RETURNING seq", [seq]);
    return rows.length === 1;
  }

  async get(seq: number): Promise<DeadLetter | undefined> {
    const [row] = await readRows<DeadLetterRow>(
      this.pool,
      `SELECT ${DEAD_LETTER_COLUMNS} FROM dead_letters WHERE seq = $1`,
      [seq],
    );
    return row ? toDeadLetter(row) : undefined;
  }

  async list(afterSeq: number, limit: number, address?: AddressRef): Promise<DeadLetter[]> {
    const rows = address
      ? await readRows<DeadLetterRow>(
          this.pool,
          `SELECT ${DEAD_LETTER_COLUMNS} FROM dead_letters
           WHERE partition = $1 AND fn = $2 AND id = $3 AND seq > $4 ORDER BY seq LIMIT $5`,
          [partitionOf(address.fn, address.id, this.partitionCount), address.fn, address.id, afterSeq, limit],
        )
      : await readRows<DeadLetterRow>(
          this.pool,
          `SELECT ${DEAD_LETTER_COLUMNS} FROM dead_letters WHERE seq > $1 ORDER BY seq LIMIT $2`,
          [afterSeq, limit],
        );
    return rows.map(toDeadLetter);
  }

  async count(): Promise<number> {
    const [row] = await readRows<{ n: number }>(this.pool, "SELECT count(*)::integer AS n FROM dead_letters");
    return row?.n ?? 0;
  }
}
