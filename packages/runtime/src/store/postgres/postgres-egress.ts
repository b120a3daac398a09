import type pg from "pg";
import type { EgressStore } from "../contract.js";
import type { StoredEgressRecord } from "../records.js";
import type { FencedUnits } from "./fenced-units.js";
import { ownedPartitions, type PartitionOwner } from "./partition-owner.js";
import { EGRESS_COLUMNS, type EgressRow, toEgressRecord } from "./postgres-rows.js";
import { readRows } from "./read-rows.js";

/**
 * The egress outbox, filed under the producing address's partition. Delivery (pending, then
 * delete) belongs to that partition's owner. pop serves readers that consume a topic (the
 * playground egress) on whichever instance they call, so it takes the oldest record of the
 * topic from any partition; FOR UPDATE SKIP LOCKED hands each record to exactly one reader.
 */
export class PostgresEgress implements EgressStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly owner: PartitionOwner,
    private readonly fenced: FencedUnits,
  ) {}

  async pending(egress: string, afterSeq: number, limit: number): Promise<StoredEgressRecord[]> {
    const partitions = ownedPartitions(this.owner);
    if (partitions.length === 0) return [];
    const rows = await readRows<EgressRow>(
      this.pool,
      `SELECT ${EGRESS_COLUMNS} FROM egress WHERE egress = $1 AND seq > $2 AND partition = ANY($3::integer[])
       ORDER BY seq LIMIT $4`,
      [egress, afterSeq, partitions, limit],
    );
    return rows.map(toEgressRecord);
  }

  /** Owner only: a record of a partition this instance lost is left for the new owner to deliver. */
  async delete(seq: number): Promise<void> {
    const [row] = await readRows<{ partition: number }>(
      this.pool,
      "SELECT partition FROM egress WHERE seq = $1",
      [seq],
    );
    if (!row) return;
    await this.fenced.submit({
      partitions: [row.partition],
      work: (transaction) => transaction.query("DELETE FROM egress WHERE seq = $1", [seq]),
    });
  }

  async pop(egress: string, topic: string): Promise<StoredEgressRecord | undefined> {
    const [row] = await readRows<EgressRow>(
      this.pool,
      `DELETE FROM egress WHERE seq = (
         SELECT seq FROM egress WHERE egress = $1 AND topic = $2 ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING ${EGRESS_COLUMNS}`,
      [egress, topic],
    );
    return row ? toEgressRecord(row) : undefined;
  }

  async count(): Promise<number> {
    const [row] = await readRows<{ n: number }>(this.pool, "SELECT count(*)::integer AS n FROM egress");
    return row?.n ?? 0;
  }
}
