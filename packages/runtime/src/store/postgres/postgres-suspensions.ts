import type pg from "pg";
import { partitionOf } from "../../cluster/partition-hash.js";
import type { SuspensionStore } from "../contract.js";
import type { Suspension } from "../records.js";
import type { FencedUnits } from "./fenced-units.js";
import { type SuspensionRow, toSuspension } from "./postgres-rows.js";
import { readRows } from "./read-rows.js";

/** Suspended addresses; only the owner of an address's partition suspends it. */
export class PostgresSuspensions implements SuspensionStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly partitionCount: number,
    private readonly fenced: FencedUnits,
  ) {}

  async upsert(suspension: Suspension): Promise<void> {
    const { address, failures, errorCode, errorMessage, suspendedAt, retryAt } = suspension;
    const partition = partitionOf(address.fn, address.id, this.partitionCount);
    await this.fenced.submit({
      partitions: [partition],
      work: (transaction) =>
        transaction.query(
          `INSERT INTO suspensions (partition, fn, id, failures, error_code, error_message, suspended_at, retry_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (partition, fn, id) DO UPDATE SET failures = excluded.failures, error_code = excluded.error_code,
             error_message = excluded.error_message, retry_at = excluded.retry_at`,
          [partition, address.fn, address.id, failures, errorCode, errorMessage, suspendedAt, retryAt],
        ),
    });
  }

  async all(): Promise<Suspension[]> {
    const rows = await readRows<SuspensionRow>(
      this.pool,
      "SELECT fn, id, failures, error_code, error_message, suspended_at, retry_at FROM suspensions ORDER BY suspended_at",
    );
    return rows.map(toSuspension);
  }
}
