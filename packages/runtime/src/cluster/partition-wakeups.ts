import type { StoreUrl } from "../store/postgres/store-url.js";
import type { Ownership } from "./ownership.js";
import { PartitionListener } from "./partition-listener.js";

/**
 * Why the owner should look at partitions now:
 * - gained: it just took them (their backlogs and timers are not loaded yet);
 * - notified: a committed transaction added messages to one;
 * - catch-up: the listener was away, and notifications sent meanwhile are gone.
 */
export type WakeupReason = "gained" | "notified" | "catch-up";

export interface PartitionWakeupsOptions {
  readonly url: StoreUrl;
  readonly ownership: Ownership;
  /**
   * Look for work in `partitions` (all owned by this instance when called). With reason
   * "notified", `minSeq` is the lowest seq the notifying transaction added to the partition:
   * nothing older is new from it, so a scan by seq may start just below it. Undefined when the
   * notification did not carry one, and for the other reasons: look from the start.
   */
  readonly onWork: (partitions: readonly number[], reason: WakeupReason, minSeq?: number) => void;
  readonly onError?: (error: unknown) => void;
}

/**
 * Ties the listener to ownership: it LISTENs to exactly the partitions this instance holds,
 * runs an ownership round as soon as another instance announces a join, a release or its
 * departure, and turns gains, notifications and reconnections into one `onWork` callback, so the dispatcher
 * has one place to start reading a partition's messages. On a gain it LISTENs first and only
 * then reports the partitions, so a message committed in between is found either way.
 */
export class PartitionWakeups {
  private constructor(
    private readonly listener: PartitionListener,
    private readonly unsubscribe: () => void,
  ) {}

  static async start(options: PartitionWakeupsOptions): Promise<PartitionWakeups> {
    const { ownership, onWork } = options;
    const held = (partitions: readonly number[]) =>
      partitions.filter((partition) => ownership.epochOf(partition) !== undefined);
    const listener = await PartitionListener.start({
      url: options.url,
      onNotify: (partition, minSeq) => {
        if (ownership.epochOf(partition) !== undefined) onWork([partition], "notified", minSeq);
      },
      onCatchUp: (partitions) => {
        const owned = held(partitions);
        if (owned.length > 0) onWork(owned, "catch-up");
        // Announcements sent while the listener was away are lost too.
        ownership.tick().catch(() => {});
      },
      // Another instance joined, released or left: rebalance now, not at the next heartbeat.
      onMembersChanged: (instanceId) => {
        if (instanceId !== ownership.instanceId) ownership.tick().catch(() => {});
      },
      ...(options.onError ? { onError: options.onError } : {}),
    });
    // Changes are queued in order, so a LISTEN and a later UNLISTEN of one partition never swap.
    let changes = Promise.resolve();
    const unsubscribe = ownership.onChange((change) => {
      changes = changes
        .then(async () => {
          if (change.lost.length > 0) await listener.unlisten(change.lost.map((lease) => lease.partition));
          if (change.gained.length > 0) {
            await listener.listen(change.gained.map((lease) => lease.partition));
            const owned = held(change.gained.map((lease) => lease.partition));
            if (owned.length > 0) onWork(owned, "gained");
          }
        })
        .catch((error: unknown) => options.onError?.(error));
    });
    const initial = ownership.owned().map((lease) => lease.partition);
    await listener.listen(initial);
    if (initial.length > 0) onWork(initial, "gained");
    // Announcements sent before the listener was in place (another instance releasing what
    // this one's join made surplus) were missed: one round now covers them.
    await ownership.tick().catch(() => {});
    return new PartitionWakeups(listener, unsubscribe);
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.listener.close();
  }
}
