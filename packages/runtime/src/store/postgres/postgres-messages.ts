import type pg from "pg";
import { partitionOf } from "../../cluster/partition-hash.js";
import type { BoundedAccept, MessageCount, MessageStore } from "../contract.js";
import type { AddressRef, AddressRow, BacklogPage, NewMessage, StoredMessage } from "../records.js";
import { GroupCommit, type GroupCommitOptions, type UnitOutcome } from "./group-commit.js";
import { appendBoundedMessages, appendMessages } from "./ingress-messages.js";
import { ownedPartitions, type PartitionOwner } from "./partition-owner.js";
import { MESSAGE_COLUMNS, type MessageRow, toMessage } from "./postgres-rows.js";
import { readRows } from "./read-rows.js";
import { toStoreError } from "./store-error.js";

interface Accept {
  readonly message: NewMessage;
  readonly now: number;
  /** Stored only if the address holds fewer messages than this (acceptBounded). */
  readonly maxWaiting?: number;
}

/**
 * Accepted messages in PostgreSQL. Accepts from every caller in one event-loop turn (or
 * while the previous group commits) become ONE multi-row insert in one transaction, and each
 * caller gets its own seq back: a commit costs ~0.7 ms, so one transaction per message would
 * cap ingress at about 1,350 messages/s. Any instance may accept; the insert notifies the
 * targets' partition channels on commit.
 */
export class PostgresMessages implements MessageStore {
  readonly accepts: GroupCommit<Accept, StoredMessage | undefined>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly partitionCount: number,
    private readonly owner: PartitionOwner,
    groupOptions: GroupCommitOptions = {},
  ) {
    this.accepts = new GroupCommit((group) => this.insertGroup(group), groupOptions);
  }

  async accept(message: NewMessage, now: number): Promise<StoredMessage> {
    // Unbounded, so always stored.
    return (await this.accepts.submit({ message, now })) as StoredMessage;
  }

  async acceptBounded(
    message: NewMessage,
    now: number,
    maxWaiting: number,
  ): Promise<BoundedAccept | undefined> {
    const stored = await this.accepts.submit({ message, now, maxWaiting });
    return stored && { message: stored };
  }

  async count(address: AddressRef): Promise<MessageCount> {
    const [row] = await readRows<{ n: number; last: string | null }>(
      this.pool,
      "SELECT count(*)::integer AS n, max(seq) AS last FROM messages WHERE partition = $1 AND fn = $2 AND id = $3",
      [this.partitionOf(address), address.fn, address.id],
    );
    return { count: row?.n ?? 0, lastSeq: Number(row?.last ?? 0) };
  }

  async head(address: AddressRef, limit: number): Promise<StoredMessage[]> {
    const rows = await readRows<MessageRow>(
      this.pool,
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE partition = $1 AND fn = $2 AND id = $3 ORDER BY seq LIMIT $4`,
      // LIMIT NULL is no limit: an endpoint without maxNumBatchRequests passes Infinity.
      [this.partitionOf(address), address.fn, address.id, Number.isFinite(limit) ? limit : null],
    );
    return rows.map(toMessage);
  }

  async pageAfter(afterSeq: number, limit: number): Promise<AddressRow[]> {
    const partitions = ownedPartitions(this.owner);
    if (partitions.length === 0) return [];
    const rows = await readRows<{ seq: string; fn: string; id: string }>(
      this.pool,
      "SELECT seq, fn, id FROM messages WHERE partition = ANY($1::integer[]) AND seq > $2 ORDER BY seq LIMIT $3",
      [partitions, afterSeq, limit],
    );
    return rows.map((row) => ({ seq: Number(row.seq), fn: row.fn, id: row.id }));
  }

  /**
   * Leaves nothing out: seqs may commit out of order here (see lookBack), so no read can say
   * that nothing older is still to come, and a page may not move past rows it did not return.
   */
  async pageAfterSkipping(afterSeq: number, limit: number): Promise<BacklogPage> {
    const rows = await this.pageAfter(afterSeq, limit);
    return { rows, scannedTo: rows.at(-1)?.seq ?? afterSeq };
  }

  async nextIdWithMessages(fn: string, afterId: string): Promise<string | undefined> {
    // COLLATE "C": byte order, as SQLite compares, whatever the database's collation.
    const [row] = await readRows<{ id: string }>(
      this.pool,
      `SELECT id FROM messages WHERE fn = $1 AND id COLLATE "C" > $2 ORDER BY id COLLATE "C" LIMIT 1`,
      [fn, afterId],
    );
    return row?.id;
  }

  private partitionOf(address: AddressRef): number {
    return partitionOf(address.fn, address.id, this.partitionCount);
  }

  /** One statement, committing by itself: a whole group of accepts costs one round trip. */
  private async insertGroup(group: readonly Accept[]): Promise<UnitOutcome<StoredMessage | undefined>[]> {
    try {
      const messages = group.map((accept) => accept.message);
      const times = group.map((accept) => accept.now);
      const seqs = group.some((accept) => accept.maxWaiting !== undefined)
        ? await appendBoundedMessages(
            this.pool,
            messages,
            this.partitionCount,
            times,
            group.map((accept) => accept.maxWaiting ?? null),
          )
        : await appendMessages(this.pool, messages, this.partitionCount, times);
      return group.map(({ message, now }, index) => {
        const seq = seqs[index];
        return {
          ok: true as const,
          value: seq === undefined ? undefined : { ...message, seq, acceptedAt: now },
        };
      });
    } catch (error) {
      // A message PostgreSQL refused fails alone: the others are inserted again one by one.
      // Only a refusal of the data says for sure the statement wrote nothing; a lost
      // connection may hide a commit, so it fails the group without a retry.
      if (group.length > 1 && isDataRefusal(error)) return this.insertOneByOne(group);
      throw toStoreError(error);
    }
  }

  private async insertOneByOne(group: readonly Accept[]): Promise<UnitOutcome<StoredMessage | undefined>[]> {
    const outcomes: UnitOutcome<StoredMessage | undefined>[] = [];
    for (const accept of group) {
      try {
        // Alone, it either succeeds or throws.
        outcomes.push(...(await this.insertGroup([accept])));
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }
}

/** A data exception (SQLSTATE class 22) or a broken constraint (class 23): the statement failed whole. */
function isDataRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("23"));
}
