import type pg from "pg";
import { partitionOf } from "../../cluster/partition-hash.js";
import type { StateStore } from "../contract.js";
import type { AddressRef, StateValue } from "../records.js";
import { ownedPartitions, type PartitionOwner } from "./partition-owner.js";
import { toBytes } from "./postgres-rows.js";
import { readRows } from "./read-rows.js";

/** State values per address and name, read through the pool (no cache: another instance may own them next). */
export class PostgresState implements StateStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly partitionCount: number,
    private readonly owner: PartitionOwner,
  ) {}

  async read(address: AddressRef, now: number): Promise<ReadonlyMap<string, StateValue>> {
    const rows = await readRows<{ name: string; value: Buffer; expires_at: string | null }>(
      this.pool,
      `SELECT name, value, expires_at FROM state
       WHERE partition = $1 AND fn = $2 AND id = $3 AND (expires_at IS NULL OR expires_at > $4)`,
      [partitionOf(address.fn, address.id, this.partitionCount), address.fn, address.id, now],
    );
    const values = new Map<string, StateValue>();
    for (const row of rows) {
      values.set(row.name, {
        name: row.name,
        value: toBytes(row.value),
        expiresAt: row.expires_at === null ? null : Number(row.expires_at),
      });
    }
    return values;
  }

  /**
   * Removes expired values of the owned partitions (their owner alone writes their state).
   * Served by state_by_expiry, which holds only values that can expire.
   */
  async purgeExpired(now: number): Promise<number> {
    const partitions = ownedPartitions(this.owner);
    if (partitions.length === 0) return 0;
    const [row] = await readRows<{ n: number }>(
      this.pool,
      `WITH purged AS (DELETE FROM state WHERE expires_at IS NOT NULL AND expires_at <= $1 AND partition = ANY($2::integer[])
       RETURNING 1) SELECT count(*)::integer AS n FROM purged`,
      [now, partitions],
    );
    return row?.n ?? 0;
  }
}
