import { hostname } from "node:os";
import type { Logger } from "../dispatch/logger.js";
import type { OwnerClaim } from "../store/contract.js";
import {
  type ClusterStatus,
  type PartitionOwner,
  readClusterStatus,
  readPartitionOwner,
} from "../store/postgres/cluster-status.js";
import { type OpenedPostgresBackend, openPostgresBackend } from "../store/postgres/open-postgres-backend.js";
import type { PostgresBackend } from "../store/postgres/postgres-backend.js";
import { parseStoreUrl } from "../store/postgres/store-url.js";
import type { AddressRef } from "../store/records.js";
import { parseAdvertiseHost } from "./advertise-host.js";
import type { Ownership } from "./ownership.js";
import type { OwnershipChange, OwnershipChangeReason } from "./ownership-types.js";
import { partitionOf } from "./partition-hash.js";
import { PartitionWakeups } from "./partition-wakeups.js";

export interface ClusterMemberOptions {
  /** `postgres://…` (`--store`, SWITCHBOARD_STORE). */
  readonly url: string;
  /** The partition count a new cluster is created with; an existing cluster must match. */
  readonly partitions?: number;
  /** Unique per process run (default: host, pid and a random suffix). */
  readonly instanceId?: string;
  /** How long a silent instance keeps its partitions (default 10 s). */
  readonly leaseMs?: number;
  /** Listener names to ports, shown in the members table and the admin API's cluster view. */
  readonly ports?: Readonly<Record<string, number>>;
  /**
   * The host other instances dial to reach this one (`--advertise-host`): a host name or an IP
   * address, checked by parseAdvertiseHost. Default: this machine's name.
   */
  readonly advertiseHost?: string;
  readonly logger: Logger;
}

/** What dispatch does about ownership (Dispatcher's cluster hooks). */
export interface ClusterWork {
  /** Partitions were gained, or notifications may have been missed: read the owned backlog again. */
  gained(): void;
  /** Partitions were lost: forget their addresses. */
  lost(): void;
  /** Another instance stored messages for owned partitions, the lowest seq `fromSeq` (if known). */
  storedElsewhere(fromSeq?: number): void;
}

/** Partitions that changed hands at this instance since it joined, by direction and reason. */
export interface OwnershipChangeCount {
  readonly change: "gained" | "lost";
  readonly reason: OwnershipChangeReason;
  readonly partitions: number;
}

/**
 * One instance's place in a cluster on PostgreSQL: the fenced store backend, this instance's
 * partition ownership, and the wake-ups that tell dispatch when partitions move or messages
 * arrive for them. Joining takes the instance's share of the partitions at once (an instance
 * alone owns them all, except those a crashed instance's unexpired lease still holds);
 * leaving commits what was submitted and hands the partitions over without a lease wait.
 */
export class ClusterMember {
  private wakeups: PartitionWakeups | undefined;
  private unsubscribe: (() => void) | undefined;
  private leaving: Promise<void> | undefined;

  private constructor(
    private readonly opened: OpenedPostgresBackend,
    private readonly url: string,
    private readonly logger: Logger,
    /** The members row's host: `advertiseHost`, or the machine's name. */
    readonly host: string,
    // The object the ownership heartbeats write to the members row: advertisePorts adds to it.
    private readonly ports: Record<string, number>,
    private readonly changes: Map<string, OwnershipChangeCount>,
  ) {}

  static async join(options: ClusterMemberOptions): Promise<ClusterMember> {
    const { logger } = options;
    // Checked before anything connects: a bad host starts nothing.
    const host = options.advertiseHost !== undefined ? parseAdvertiseHost(options.advertiseHost) : hostname();
    const ports: Record<string, number> = { ...options.ports };
    const changes = new Map<string, OwnershipChangeCount>();
    const opened = await openPostgresBackend({
      url: options.url,
      ...(options.partitions !== undefined ? { partitions: options.partitions } : {}),
      ownership: {
        ...(options.instanceId ? { instanceId: options.instanceId } : {}),
        ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
        host,
        ports,
        onError: (error) => logger.warn({ err: error }, "a cluster heartbeat failed; the next one retries"),
      },
      // Hears the first tick's gains too, so the counts start at the join.
      onOwnershipChange: (change) => {
        logChange(logger, change);
        countChange(changes, change);
      },
    });
    return new ClusterMember(opened, options.url, logger, host, ports, changes);
  }

  get backend(): PostgresBackend {
    return this.opened.backend;
  }

  get ownership(): Ownership {
    return this.opened.ownership;
  }

  get instanceId(): string {
    return this.opened.ownership.instanceId;
  }

  get partitionCount(): number {
    return this.opened.backend.store.partitionCount;
  }

  get leaseMs(): number {
    return this.opened.ownership.leaseMs;
  }

  /** How many partitions this instance holds now (from memory). */
  ownedCount(): number {
    return this.opened.ownership.owned().length;
  }

  /** The partition `address` belongs to. */
  partitionOf(address: AddressRef): number {
    return partitionOf(address.fn, address.id, this.partitionCount);
  }

  /**
   * Adds listener ports to this instance's members row (the admin port, known once its server
   * listens), at once and at every heartbeat after: other instances forward admin actions to it.
   * Never fails: when the database does not take it now, the next heartbeat writes them.
   */
  async advertisePorts(ports: Readonly<Record<string, number>>): Promise<void> {
    // The heartbeat rewrites the row's ports from this object each round, so it keeps them.
    Object.assign(this.ports, ports);
    try {
      await this.opened.backend.store.pool.query(
        "UPDATE members SET ports = ports || $2::jsonb WHERE instance_id = $1",
        [this.instanceId, JSON.stringify(ports)],
      );
    } catch (error) {
      this.logger.warn(
        { err: error },
        "registering this instance's ports failed; the next heartbeat does it",
      );
    }
  }

  /** Members, partition owners, epochs, leases and lag, read from the database (a few queries). */
  readStatus(): Promise<ClusterStatus> {
    return readClusterStatus(this.opened.backend.store.pool);
  }

  /** Who owns `partition` by the database, and where its member row says it listens. */
  ownerOf(partition: number): Promise<PartitionOwner | undefined> {
    return readPartitionOwner(this.opened.backend.store.pool, partition);
  }

  /** Partitions gained and lost since joining, by reason. */
  ownershipChanges(): OwnershipChangeCount[] {
    return [...this.changes.values()];
  }

  /** This instance's claim on `address`'s partition now; undefined when another instance owns it. */
  readonly claim = (address: AddressRef): OwnerClaim | undefined => {
    const partition = partitionOf(address.fn, address.id, this.partitionCount);
    const epoch = this.opened.ownership.epochOf(partition);
    return epoch === undefined ? undefined : { partition, epoch };
  };

  /** Whether this instance owns `address`'s partition now. */
  readonly owns = (address: AddressRef): boolean => this.claim(address) !== undefined;

  /**
   * Starts telling `work` about ownership changes and other instances' messages. Call once
   * dispatch has started: the partitions held now are reported as gained straight away.
   */
  async attach(work: ClusterWork): Promise<void> {
    // (join's listener logs every change, the first tick's included.)
    this.unsubscribe = this.opened.ownership.onChange((change) => {
      if (change.lost.length > 0) work.lost();
    });
    this.wakeups = await PartitionWakeups.start({
      url: parseStoreUrl(this.url),
      ownership: this.opened.ownership,
      onWork: (_partitions, reason, fromSeq?: number) => {
        if (reason === "notified") work.storedElsewhere(fromSeq);
        else work.gained();
      },
      onError: (error) =>
        this.logger.warn({ err: error }, "the cluster's notification listener failed; it reconnects"),
    });
  }

  /** Stops listening, commits what was submitted, hands the partitions over, closes the pool. */
  leave(): Promise<void> {
    this.leaving ??= (async () => {
      this.unsubscribe?.();
      await this.wakeups?.close().catch(() => {});
      await this.opened.close();
    })();
    return this.leaving;
  }
}

function countChange(counts: Map<string, OwnershipChangeCount>, change: OwnershipChange): void {
  const add = (direction: "gained" | "lost", partitions: number) => {
    if (partitions === 0) return;
    const key = `${direction}/${change.reason}`;
    const before = counts.get(key)?.partitions ?? 0;
    counts.set(key, { change: direction, reason: change.reason, partitions: before + partitions });
  };
  add("gained", change.gained.length);
  add("lost", change.lost.length);
}

function logChange(logger: Logger, change: OwnershipChange): void {
  if (change.gained.length > 0) {
    logger.info(
      { partitions: change.gained.length, reason: change.reason },
      `took ${change.gained.length} partitions (${change.reason})`,
    );
  }
  if (change.lost.length > 0) {
    const level = change.reason === "stopped" || change.reason === "rebalanced" ? "info" : "warn";
    logger[level](
      { partitions: change.lost.length, reason: change.reason },
      `gave up ${change.lost.length} partitions (${change.reason})`,
    );
  }
}
