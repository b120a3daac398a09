import type pg from "pg";
import type { PartitionLease } from "./lease-table.js";

export type { PartitionLease } from "./lease-table.js";

/** Why partitions changed hands, for logs and for what the owner does about it. */
export type OwnershipChangeReason =
  /** acquire: unowned or expired partitions this instance took. */
  | "acquired"
  /** rebalance: this instance held more than its share and gave the surplus up. */
  | "rebalanced"
  /** taken: another instance holds them now (found on renewal or by a failed fencing check). */
  | "taken"
  /** expired: renewals kept failing until the lease ran out by this instance's own clock. */
  | "expired"
  /** stopped: stop() handed everything over. */
  | "stopped";

export interface OwnershipChange {
  readonly gained: readonly PartitionLease[];
  readonly lost: readonly PartitionLease[];
  readonly reason: OwnershipChangeReason;
}

/**
 * Told, synchronously, when this instance gained or lost partitions. On `lost` the owner must
 * stop dispatching those partitions; a transaction of theirs still in flight fails its
 * fencing check and writes nothing, so effects stay exactly once. On `gained` it should load
 * the partitions' backlogs and timers.
 */
export type OwnershipListener = (change: OwnershipChange) => void;

export interface OwnershipOptions {
  readonly pool: pg.Pool;
  /** The cluster's partition count (PostgresStore.partitionCount). */
  readonly partitionCount: number;
  /** Unique per process run; default `<hostname>-<pid>-<random>`. */
  readonly instanceId?: string;
  /** Shown in the members table; default the hostname. */
  readonly host?: string;
  /** Listener names to ports, shown in the members table. */
  readonly ports?: Readonly<Record<string, number>>;
  /** How long a silent instance keeps its partitions; default 10 s. */
  readonly leaseMs?: number;
  /** How often heartbeats, renewals and rebalancing run; default a third of the lease. */
  readonly heartbeatMs?: number;
  /** No timer: only explicit tick() calls do the work (tests and tools). */
  readonly manualTicks?: boolean;
  /** Told when a tick failed (the next one retries); default: ignored. */
  readonly onError?: (error: unknown) => void;
}
