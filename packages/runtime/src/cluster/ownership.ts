import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type pg from "pg";
import { ClusterErrors } from "../errors/cluster-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { fairShare } from "./assignment.js";
import { assertEpochs, ownershipLost } from "./fencing.js";
import {
  acquireFree,
  nextForeignExpiry,
  type PartitionLease,
  releasePartitions,
  renewLeases,
} from "./lease-table.js";
import { announce, deregister, heartbeat, liveMembers, type MemberAddress } from "./membership.js";
import type {
  OwnershipChange,
  OwnershipChangeReason,
  OwnershipListener,
  OwnershipOptions,
} from "./ownership-types.js";
import { type SqlClient, withDeadline } from "./sql-client.js";

export const DEFAULT_LEASE_MS = 10_000;
// Members silent this many leases are deleted from the table (status shows them until then).
const FORGET_AFTER_LEASES = 30;

/**
 * This instance's share of the cluster's partitions. Each tick it heartbeats, renews the
 * leases it holds (learning which were taken from it), and moves toward its fair share: it
 * releases a surplus at once and takes unowned or expired partitions when it has too few.
 * stop() releases everything at once, so the others take over at their next tick instead of
 * waiting for leases to expire. Writers prove ownership with fence() inside their transactions.
 */
export class Ownership {
  readonly instanceId: string;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  // The pool behind a deadline of one lease per statement: a round that cannot finish within
  // the lease is worthless, and must fail rather than hang.
  private readonly pool: SqlClient;
  private readonly partitionCount: number;
  private readonly member: MemberAddress;
  private readonly onError: (error: unknown) => void;
  private readonly listeners = new Set<OwnershipListener>();
  private readonly held = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  // performance.now() at the start of the last renewal that succeeded: leases it renewed
  // run at least leaseMs from then by the server's clock.
  private renewedAt = 0;
  // performance.now() when, as the last round saw it, another instance's lease or membership
  // runs out next.
  private foreignExpiryAt: number | undefined;

  private constructor(options: OwnershipOptions) {
    this.partitionCount = options.partitionCount;
    this.instanceId = options.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.pool = withDeadline(options.pool, this.leaseMs);
    this.heartbeatMs = options.heartbeatMs ?? Math.max(1, Math.floor(this.leaseMs / 3));
    this.member = {
      instanceId: this.instanceId,
      host: options.host ?? hostname(),
      ports: options.ports ?? {},
    };
    this.onError = options.onError ?? (() => {});
    checkTimings(this.leaseMs, this.heartbeatMs);
  }

  /**
   * Registers this instance and runs the first tick (so it may already own partitions when
   * this resolves), then ticks every heartbeatMs unless manualTicks is set. A listener given
   * here also hears that first tick's gains.
   */
  static async start(options: OwnershipOptions, listener?: OwnershipListener): Promise<Ownership> {
    const ownership = new Ownership(options);
    if (listener) ownership.onChange(listener);
    await ownership.tick();
    // The others may now hold more than their share: let them release it without waiting.
    await announce(ownership.pool, ownership.instanceId).catch(ownership.onError);
    if (!options.manualTicks) {
      ownership.schedule();
      // Apart from the ticks, which a database that stopped answering can hold up for good.
      ownership.watchdog = setInterval(() => ownership.expireIfOverdue(), ownership.heartbeatMs);
      ownership.watchdog.unref();
    }
    return ownership;
  }

  /** Adds a listener; returns the function that removes it. */
  onChange(listener: OwnershipListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The partitions this instance believes it holds, with their epochs, by partition. */
  owned(): PartitionLease[] {
    return [...this.held]
      .map(([partition, epoch]) => ({ partition, epoch }))
      .sort((a, b) => a.partition - b.partition);
  }

  /** The epoch this instance holds `partition` with, or undefined. */
  epochOf(partition: number): number | undefined {
    return this.held.get(partition);
  }

  /**
   * The fencing check for a transaction touching `partitions` (see fencing.ts): fails with
   * SB_CLUSTER_OWNERSHIP_LOST when this instance does not hold one of them, locally or in the
   * database. A partition found lost is dropped at once and listeners hear it ("taken").
   */
  async fence(transaction: pg.PoolClient, partitions: number | readonly number[]): Promise<void> {
    const wanted = typeof partitions === "number" ? [partitions] : partitions;
    const leases: PartitionLease[] = [];
    const notHeld: PartitionLease[] = [];
    for (const partition of wanted) {
      const epoch = this.held.get(partition);
      if (epoch === undefined) notHeld.push({ partition, epoch: -1 });
      else leases.push({ partition, epoch });
    }
    if (notHeld.length > 0) throw ownershipLost(notHeld);
    try {
      await assertEpochs(transaction, leases);
    } catch (error) {
      if (error instanceof SwitchboardError && error.code === ClusterErrors.OWNERSHIP_LOST.code) {
        const lostPartitions = new Set((error.details.partitions as number[] | undefined) ?? []);
        this.drop(
          leases.filter((lease) => lostPartitions.has(lease.partition)),
          "taken",
        );
      }
      throw error;
    }
  }

  /**
   * One round: heartbeat, renew, then release a surplus or take free partitions. Rounds never
   * overlap; a failed round is reported to onError and rethrown to a direct caller.
   */
  tick(): Promise<void> {
    const round = this.running.then(() => this.round());
    this.running = round.catch(() => {});
    return round;
  }

  /**
   * Hands every partition over at once (no lease wait for the others) and leaves the members
   * table. Listeners hear the loss ("stopped") before the release commits. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.stopped) return this.running;
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    await this.running;
    const partitions = [...this.held.keys()];
    this.drop(this.owned(), "stopped");
    await releasePartitions(this.pool, this.instanceId, partitions);
    await deregister(this.pool, this.instanceId);
    await announce(this.pool, this.instanceId);
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    const startedAt = performance.now();
    try {
      await heartbeat(this.pool, this.member);
      const renewed = await renewLeases(this.pool, this.instanceId, this.leaseMs);
      this.renewedAt = startedAt;
      this.reconcile(renewed);
      if (this.stopped) return;
      // Asked before the share is worked out, not after: a lease running out between the two
      // would otherwise be seen neither as live (to wait for) nor as free (to take), and its
      // partitions would wait a whole heartbeat more.
      const foreignExpiryMs = await nextForeignExpiry(this.pool, this.instanceId, this.leaseMs);
      this.foreignExpiryAt = foreignExpiryMs === undefined ? undefined : performance.now() + foreignExpiryMs;
      // Rows still ours that this instance stopped serving (it expired them by its own clock, or
      // a release failed): give them up with a new epoch, so a transaction of the old
      // incarnation still in flight cannot commit, and take them again below like any other.
      const orphans = renewed.filter((lease) => this.held.get(lease.partition) !== lease.epoch);
      if (orphans.length > 0) {
        await releasePartitions(
          this.pool,
          this.instanceId,
          orphans.map((lease) => lease.partition),
        );
      }
      const members = await liveMembers(this.pool, this.leaseMs, this.leaseMs * FORGET_AFTER_LEASES);
      const share = fairShare(members, this.instanceId, this.partitionCount);
      if (this.held.size > share) {
        // The highest partitions go first, so shares stay contiguous and stable over time.
        const surplus = [...this.held.keys()].sort((a, b) => b - a).slice(0, this.held.size - share);
        this.drop(
          surplus.map((partition) => ({ partition, epoch: this.held.get(partition) as number })),
          "rebalanced",
        );
        await releasePartitions(this.pool, this.instanceId, surplus);
        await announce(this.pool, this.instanceId);
      } else if (this.held.size < share) {
        const gained = await acquireFree(this.pool, this.instanceId, share - this.held.size, this.leaseMs);
        if (this.stopped) {
          await releasePartitions(
            this.pool,
            this.instanceId,
            gained.map((lease) => lease.partition),
          );
          return;
        }
        for (const lease of gained) this.held.set(lease.partition, lease.epoch);
        this.emit({ gained, lost: [], reason: "acquired" });
      }
    } catch (error) {
      this.expireIfOverdue();
      this.onError(error);
      throw error;
    }
  }

  /** Drops what the database no longer gives this instance; adopts epochs it changed. */
  private reconcile(renewed: readonly PartitionLease[]): void {
    const inDatabase = new Map(renewed.map((lease) => [lease.partition, lease.epoch]));
    const taken = this.owned().filter((lease) => inDatabase.get(lease.partition) !== lease.epoch);
    this.drop(taken, "taken");
  }

  /** Without a successful renewal for a whole lease, others may own everything: stop serving it. */
  private expireIfOverdue(): void {
    if (this.held.size > 0 && performance.now() - this.renewedAt >= this.leaseMs)
      this.drop(this.owned(), "expired");
  }

  private drop(leases: readonly PartitionLease[], reason: OwnershipChangeReason): void {
    const lost = leases.filter((lease) => this.held.get(lease.partition) === lease.epoch);
    if (lost.length === 0) return;
    for (const lease of lost) this.held.delete(lease.partition);
    this.emit({ gained: [], lost, reason });
  }

  private emit(change: OwnershipChange): void {
    if (change.gained.length === 0 && change.lost.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.onError(error);
      }
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    const foreignExpiryMs =
      this.foreignExpiryAt === undefined ? undefined : Math.max(0, this.foreignExpiryAt - performance.now());
    this.foreignExpiryAt = undefined;
    const delay = nextRoundDelay(this.heartbeatMs, foreignExpiryMs);
    this.timer = setTimeout(() => {
      this.tick().then(
        () => this.schedule(),
        () => this.schedule(),
      );
    }, delay);
    // A timer of its own must not keep a process alive that has nothing else to do.
    this.timer.unref();
  }
}

// After a lease runs out, by this much: the timer and the server's clock need not agree to the ms.
const AFTER_EXPIRY_MS = 25;

/**
 * When the next round runs: after a heartbeat interval, or just after another instance's lease
 * or membership runs out if that comes first. A dead instance's partitions are then taken when its leases
 * expire, not up to a whole heartbeat later. (A live owner renews a lease long before it runs
 * out, so its leases never bring a round forward.)
 */
export function nextRoundDelay(heartbeatMs: number, foreignExpiryMs: number | undefined): number {
  if (foreignExpiryMs === undefined) return heartbeatMs;
  return Math.min(heartbeatMs, foreignExpiryMs + AFTER_EXPIRY_MS);
}

function checkTimings(leaseMs: number, heartbeatMs: number): void {
  if (
    !(
      Number.isFinite(leaseMs) &&
      leaseMs > 0 &&
      Number.isFinite(heartbeatMs) &&
      heartbeatMs > 0 &&
      heartbeatMs < leaseMs
    )
  ) {
    throw new SwitchboardError(
      ClusterErrors.BAD_LEASE,
      `the heartbeat interval (${heartbeatMs} ms) must be above 0 and shorter than the lease (${leaseMs} ms)`,
      { leaseMs, heartbeatMs },
    );
  }
}
