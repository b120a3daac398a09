import type { ClusterMember } from "../cluster/cluster-member.js";
import type { ClusterStatus, PartitionStatus } from "../store/postgres/cluster-status.js";
import { memberAdminUrl } from "./owner-admin-url.js";
import { ThrottledRead } from "./throttled-read.js";

/** The cluster as last read from the database, and when (this instance's clock). */
export interface ClusterReading {
  readonly status: ClusterStatus;
  readonly readAt: number;
}

/** Messages waiting in a set of partitions: how many, and how long the oldest has waited. */
export interface Lag {
  readonly queued: number;
  readonly oldestQueuedAgeMs: number | null;
}

/**
 * Members, owners and lag, read from the database at most once a second, whoever asks
 * (/api/cluster, the overview, the cluster gauges): the lag is an aggregate over every
 * queued message of the cluster, so it must not run per scrape or per page refresh.
 */
export class ClusterFigures {
  private readonly reading: ThrottledRead<ClusterReading | undefined>;

  constructor(
    readonly member: ClusterMember,
    clock: () => number = Date.now,
  ) {
    this.reading = new ThrottledRead<ClusterReading | undefined>(
      async () => ({ status: await member.readStatus(), readAt: clock() }),
      undefined,
      { clock },
    );
  }

  /** The last reading at once (undefined before the first); reads again in the background when stale. */
  latest(): ClusterReading | undefined {
    return this.reading.latest();
  }

  /** A reading at most a second old (undefined only when the database never answered). */
  fresh(): Promise<ClusterReading | undefined> {
    return this.reading.fresh();
  }
}

/** Whether a member's heartbeat is younger than a lease (this instance's lease setting). */
function isLive(heartbeatAgeMs: number, leaseMs: number): boolean {
  return heartbeatAgeMs < leaseMs;
}

export function lagOf(partitions: readonly PartitionStatus[]): Lag {
  let queued = 0;
  let oldest: number | null = null;
  for (const partition of partitions) {
    queued += partition.queued;
    if (partition.oldestQueuedAgeMs !== null && (oldest === null || partition.oldestQueuedAgeMs > oldest)) {
      oldest = partition.oldestQueuedAgeMs;
    }
  }
  return { queued, oldestQueuedAgeMs: oldest };
}

/** The figures the cluster gauges show, from the last reading and this instance's memory. */
export function clusterGaugeFigures(figures: ClusterFigures): {
  readonly partitionsOwned: number;
  readonly membersLive: number | undefined;
  readonly partitionsUnowned: number | undefined;
  readonly ownedLag: Lag | undefined;
} {
  const { member } = figures;
  const reading = figures.latest();
  if (!reading) {
    return {
      partitionsOwned: member.ownedCount(),
      membersLive: undefined,
      partitionsUnowned: undefined,
      ownedLag: undefined,
    };
  }
  const { members, partitions } = reading.status;
  return {
    partitionsOwned: member.ownedCount(),
    membersLive: members.filter((row) => isLive(row.heartbeatAgeMs, member.leaseMs)).length,
    partitionsUnowned: partitions.filter((row) => row.owner === null).length,
    ownedLag: lagOf(partitions.filter((row) => row.owner === member.instanceId)),
  };
}

/** The members with what they own and their lag: the live page's cluster table. */
function membersView(reading: ClusterReading, member: ClusterMember) {
  const { members, partitions } = reading.status;
  return members.map((row) => {
    const owned = partitions.filter((partition) => partition.owner === row.instanceId);
    return {
      instanceId: row.instanceId,
      self: row.instanceId === member.instanceId,
      host: row.host,
      ports: row.ports,
      // Where this instance forwards admin actions on the member's addresses to.
      adminUrl: memberAdminUrl(row) ?? null,
      startedAt: row.startedAt.toISOString(),
      lastHeartbeatAt: row.heartbeatAt.toISOString(),
      heartbeatAgeMs: row.heartbeatAgeMs,
      live: isLive(row.heartbeatAgeMs, member.leaseMs),
      partitionsOwned: owned.length,
      partitions: owned.map((partition) => partition.partition),
      ...lagOf(owned),
    };
  });
}

/** The short form the overview (and so the live page) carries: no per-partition rows. */
export function clusterSummary(reading: ClusterReading | undefined, member: ClusterMember): unknown {
  if (!reading) return { instanceId: member.instanceId, partitionCount: member.partitionCount, readAt: null };
  const { partitions } = reading.status;
  const unowned = partitions.filter((partition) => partition.owner === null);
  return {
    instanceId: member.instanceId,
    partitionCount: reading.status.partitionCount,
    readAt: reading.readAt,
    members: membersView(reading, member).map(({ partitions: _list, ...rest }) => rest),
    unowned: { partitions: unowned.length, ...lagOf(unowned) },
    ...lagOf(partitions),
  };
}

/** GET /api/cluster: members, every partition's owner, epoch, lease and lag, and lag per member. */
export function clusterView(reading: ClusterReading, member: ClusterMember): unknown {
  const { partitions } = reading.status;
  const unowned = partitions.filter((partition) => partition.owner === null);
  return {
    instanceId: member.instanceId,
    partitionCount: reading.status.partitionCount,
    leaseMs: member.leaseMs,
    readAt: reading.readAt,
    members: membersView(reading, member),
    partitions: partitions.map((partition) => ({
      partition: partition.partition,
      owner: partition.owner,
      epoch: partition.epoch,
      leaseExpiresAt: partition.leaseExpiresAt?.toISOString() ?? null,
      leaseRemainingMs: partition.leaseRemainingMs,
      queued: partition.queued,
      oldestQueuedAgeMs: partition.oldestQueuedAgeMs,
    })),
    unowned: { partitions: unowned.length, ...lagOf(unowned) },
    ...lagOf(partitions),
  };
}
