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
  /** Since its last heartbeat, by the server's clock. */
  readonly heartbeatAgeMs: number;
  readonly partitions: number;
}

export interface PartitionStatus {
  readonly partition: number;
  readonly owner: string | null;
  readonly epoch: number;
  /** Until the lease runs out (negative: ran out that long ago); null when unowned. */
  readonly leaseRemainingMs: number | null;
  /** Messages waiting in the partition. */
  readonly queued: number;
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
  const partitions = await pool.query<{
    partition: number;
    owner: string | null;
    epoch: string;
    remaining: number | null;
    queued: string;
  }>(
    `SELECT p.partition, p.owner, p.epoch,
       CASE WHEN p.owner IS NULL THEN NULL ELSE round(extract(epoch FROM p.lease_expires_at - now()) * 1000)::float8 END AS remaining,
       coalesce(q.queued, 0) AS queued
     FROM partitions p
     LEFT JOIN (SELECT partition, count(*) AS queued FROM messages GROUP BY partition) q ON q.partition = p.partition
     ORDER BY p.partition`,
  );
  const members = await pool.query<{
    instance_id: string;
    host: string;
    ports: Record<string, number>;
    started_at: Date;
    age: number;
  }>(
    `SELECT instance_id, host, ports, started_at, round(extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS age
     FROM members ORDER BY instance_id COLLATE "C"`,
  );
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
      heartbeatAgeMs: row.age,
      partitions: owned.get(row.instance_id) ?? 0,
    })),
    partitions: partitions.rows.map((row) => ({
      partition: row.partition,
      owner: row.owner,
      epoch: Number(row.epoch),
      leaseRemainingMs: row.remaining,
      queued: Number(row.queued),
    })),
  };
}
