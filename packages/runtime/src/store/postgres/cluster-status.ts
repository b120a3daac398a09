import type pg from "pg";
import { StoreErrors } from "../../errors/store-errors.js";
import { SwitchboardError } from "../../errors/switchboard-error.js";
import { readClusterMeta } from "./cluster-meta.js";
import { readSchemaVersion, refuseNewer } from "./migrate.js";

export interface MemberStatus {
  readonly instanceId: string;
  readonly host: string;
  readonly ports: Readonly<Record<string, number>>;
  readonly startedAt: Date;
  /** Its last heartbeat, by the server's clock. */
  readonly heartbeatAt: Date;
  /** Since its last heartbeat, by the server's clock. */
  readonly heartbeatAgeMs: number;
  readonly partitions: number;
}

export interface PartitionStatus {
  readonly partition: number;
  readonly owner: string | null;
  readonly epoch: number;
  /** When the lease runs out, by the server's clock; null when unowned. */
  readonly leaseExpiresAt: Date | null;
  /** Until the lease runs out (negative: ran out that long ago); null when unowned. */
  readonly leaseRemainingMs: number | null;
  /** Messages waiting in the partition. */
  readonly queued: number;
  /**
   * How long the oldest of them has waited (the server's clock against the time the accepting
   * instance stamped it with); null when none waits.
   */
  readonly oldestQueuedAgeMs: number | null;
}

export interface ClusterStatus {
  readonly schemaVersion: number;
  readonly partitionCount: number;
  readonly createdAt: Date;
  readonly members: readonly MemberStatus[];
  readonly partitions: readonly PartitionStatus[];
}

/**
 * What `switchboard store status` shows, read without changing anything (no migration, no
 * cluster creation): SB_STORE_NOT_INITIALIZED on a database without a Switchboard cluster.
 */
export async function readClusterStatus(pool: pg.Pool): Promise<ClusterStatus> {
  const schemaVersion = await readSchemaVersion(pool);
  refuseNewer(schemaVersion);
  const meta = schemaVersion === 0 ? undefined : await readClusterMeta(pool);
  if (!meta) {
    throw new SwitchboardError(
      StoreErrors.NOT_INITIALIZED,
      "the database holds no Switchboard cluster yet; `switchboard store init --store URL` creates one",
    );
  }
  // One aggregate over the messages for every partition at once (never a query per
  // partition): the cost is one scan of the queued messages, whatever P is.
  const [partitions, members] = await Promise.all([
    pool.query<{
      partition: number;
      owner: string | null;
      epoch: string;
      lease_expires_at: Date | null;
      remaining: number | null;
      queued: string;
      oldest_age: number | null;
    }>(
      `SELECT p.partition, p.owner, p.epoch,
         CASE WHEN p.owner IS NULL THEN NULL ELSE p.lease_expires_at END AS lease_expires_at,
         CASE WHEN p.owner IS NULL THEN NULL ELSE round(extract(epoch FROM p.lease_expires_at - now()) * 1000)::float8 END AS remaining,
         coalesce(q.queued, 0) AS queued,
         CASE WHEN q.oldest IS NULL THEN NULL ELSE greatest(0, round(extract(epoch FROM now()) * 1000) - q.oldest)::float8 END AS oldest_age
       FROM partitions p
       LEFT JOIN (SELECT partition, count(*) AS queued, min(accepted_at) AS oldest FROM messages GROUP BY partition) q
         ON q.partition = p.partition
       ORDER BY p.partition`,
    ),
    pool.query<{
      instance_id: string;
      host: string;
      ports: Record<string, number>;
      started_at: Date;
      heartbeat_at: Date;
      age: number;
    }>(
      `SELECT instance_id, host, ports, started_at, heartbeat_at,
         round(extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS age
       FROM members ORDER BY instance_id COLLATE "C"`,
    ),
  ]);
  const owned = new Map<string, number>();
  for (const row of partitions.rows) if (row.owner) owned.set(row.owner, (owned.get(row.owner) ?? 0) + 1);
  return {
    schemaVersion,
    partitionCount: meta.partitionCount,
    createdAt: meta.createdAt,
    members: members.rows.map((row) => ({
      instanceId: row.instance_id,
      host: row.host,
      ports: row.ports,
      startedAt: row.started_at,
      heartbeatAt: row.heartbeat_at,
      heartbeatAgeMs: row.age,
      partitions: owned.get(row.instance_id) ?? 0,
    })),
    partitions: partitions.rows.map((row) => ({
      partition: row.partition,
      owner: row.owner,
      epoch: Number(row.epoch),
      leaseExpiresAt: row.lease_expires_at,
      leaseRemainingMs: row.remaining,
      queued: Number(row.queued),
      oldestQueuedAgeMs: row.oldest_age,
    })),
  };
}

/** Where a partition's owner can be reached, from its member row. */
export interface PartitionOwner {
  readonly partition: number;
  readonly instanceId: string;
  readonly epoch: number;
  /** Undefined when the owner has no member row any more (it left, or was forgotten). */
  readonly host: string | undefined;
  readonly ports: Readonly<Record<string, number>>;
}

/** The owner of one partition and its member row (admin requests forwarded to it); undefined when unowned. */
export async function readPartitionOwner(
  pool: pg.Pool,
  partition: number,
): Promise<PartitionOwner | undefined> {
  const { rows } = await pool.query<{
    owner: string;
    epoch: string;
    host: string | null;
    ports: Record<string, number> | null;
  }>(
    `SELECT p.owner, p.epoch, m.host, m.ports
     FROM partitions p LEFT JOIN members m ON m.instance_id = p.owner
     WHERE p.partition = $1 AND p.owner IS NOT NULL`,
    [partition],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    partition,
    instanceId: row.owner,
    epoch: Number(row.epoch),
    host: row.host ?? undefined,
    ports: row.ports ?? {},
  };
}
