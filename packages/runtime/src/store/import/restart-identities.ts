import type { Transaction } from "../postgres/transaction.js";

/**
 * Moves each table's identity past `highWaters[table]`, the highest seq the node ever gave a
 * row of it (imported or long gone), unless the identity is past it already. Without this the
 * cluster would give new rows seqs the imported rows hold (a duplicate key) or seqs the node
 * handed out before (an egress record's seq is its webhook Idempotency-Key; a dead letter's is
 * the id operators act on).
 *
 * ALTER TABLE ... RESTART rather than setval(): it is transactional, so a failed import leaves
 * the identities as they were, like everything else.
 */
export async function restartIdentities(
  transaction: Transaction,
  highWaters: ReadonlyMap<string, number>,
): Promise<void> {
  for (const [table, highWater] of highWaters) {
    const { rows } = await transaction.query<{ last: string | null }>(
      "SELECT pg_sequence_last_value(pg_get_serial_sequence($1, 'seq')::regclass) AS last",
      [table],
    );
    const last = rows[0]?.last == null ? 0 : Number(rows[0].last);
    if (highWater <= last) continue;
    // The table name comes from TABLE_COPIES, never from input; RESTART takes no parameter.
    await transaction.query(`ALTER TABLE ${table} ALTER COLUMN seq RESTART WITH ${highWater + 1}`);
  }
}
