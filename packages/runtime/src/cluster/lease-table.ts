import type { SqlClient } from "./sql-client.js";

/** A partition as its owner holds it: the epoch it took it with. */
export interface PartitionLease {
  readonly partition: number;
  readonly epoch: number;
}

type Queryable = SqlClient;

// Each statement locks the partition rows it changes in partition order (a FOR UPDATE
// sub-select sorted by partition), the order fencing.ts takes its FOR SHARE locks in, so an
// owner's renewal and its own fenced transactions never deadlock.

function toLeases(rows: readonly { partition: number; epoch: string }[]): PartitionLease[] {
  return rows
    .map((row) => ({ partition: row.partition, epoch: Number(row.epoch) }))
    .sort((a, b) => a.partition - b.partition);
}

/**
 * Extends the lease of every partition `owner` holds; returns them. A partition the owner
 * believes it holds but that is missing here was taken over by another instance.
 */
export async function renewLeases(
  client: Queryable,
  owner: string,
  leaseMs: number,
): Promise<PartitionLease[]> {
  const { rows } = await client.query<{ partition: number; epoch: string }>(
    `WITH mine AS (SELECT partition FROM partitions WHERE owner = $1 ORDER BY partition FOR UPDATE)
     UPDATE partitions p SET lease_expires_at = now() + $2 * interval '1 millisecond'
     FROM mine WHERE p.partition = mine.partition
     RETURNING p.partition, p.epoch`,
    [owner, leaseMs],
  );
  return toLeases(rows);
}

/**
 * Takes up to `count` partitions that nobody owns or whose lease has expired, bumping each
 * one's epoch: from this commit on, the previous owner's transactions for them fail their
 * fencing check. Rows another instance is taking at the same moment are skipped, not waited for.
 */
export async function acquireFree(
  client: Queryable,
  owner: string,
  count: number,
  leaseMs: number,
): Promise<PartitionLease[]> {
  if (count <= 0) return [];
  const { rows } = await client.query<{ partition: number; epoch: string }>(
    `WITH free AS (
       SELECT partition FROM partitions
       WHERE owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < now()
       ORDER BY partition LIMIT $2 FOR UPDATE SKIP LOCKED)
     UPDATE partitions p
     SET owner = $1, epoch = p.epoch + 1, lease_expires_at = now() + $3 * interval '1 millisecond', acquired_at = now()
     FROM free WHERE p.partition = free.partition
     RETURNING p.partition, p.epoch`,
    [owner, count, leaseMs],
  );
  return toLeases(rows);
}

/**
 * Gives `partitions` up at once: no owner, no lease, and a new epoch, so a late transaction of
 * this owner fails its fencing check even before anyone takes them. Returns what was released
 * (only partitions `owner` still held).
 */
export async function releasePartitions(
  client: Queryable,
  owner: string,
  partitions: readonly number[],
): Promise<PartitionLease[]> {
  if (partitions.length === 0) return [];
  const { rows } = await client.query<{ partition: number; epoch: string }>(
    `WITH mine AS (
       SELECT partition FROM partitions WHERE owner = $1 AND partition = ANY($2::integer[])
       ORDER BY partition FOR UPDATE)
     UPDATE partitions p SET owner = NULL, epoch = p.epoch + 1, lease_expires_at = NULL, acquired_at = NULL
     FROM mine WHERE p.partition = mine.partition
     RETURNING p.partition, p.epoch`,
    [owner, partitions],
  );
  return toLeases(rows);
}

/**
 * Milliseconds (by the server's clock) until the next thing about another instance runs out:
 * one of its leases, or its membership (its heartbeat plus `leaseMs`). Undefined when nothing
 * is still running. A live instance renews both long before that; a dead one's partitions
 * become free, and its share goes to the others, then. What has already run out is left
 * aside: whoever's share it is in takes it at its next round.
 */
export async function nextForeignExpiry(
  client: Queryable,
  owner: string,
  leaseMs: number,
): Promise<number | undefined> {
  const { rows } = await client.query<{ ms: string | null }>(
    `SELECT ceil(extract(epoch FROM min(ends_at) - now()) * 1000) AS ms FROM (
       SELECT lease_expires_at AS ends_at FROM partitions WHERE owner <> $1
       UNION ALL
       SELECT heartbeat_at + $2 * interval '1 millisecond' FROM members WHERE instance_id <> $1
     ) foreign_ends WHERE ends_at > now()`,
    [owner, leaseMs],
  );
  const ms = rows[0]?.ms;
  return ms === null || ms === undefined ? undefined : Math.max(0, Number(ms));
}
