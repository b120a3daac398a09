import { Counter, Gauge, type Registry } from "prom-client";
import type { OwnershipChangeCount } from "../cluster/cluster-member.js";
import type { Lag } from "./cluster-view.js";

/** What the cluster gauges read at a scrape: memory, and the last cluster reading (at most a second old). */
export interface ClusterMetricSource {
  figures(): {
    readonly partitionsOwned: number;
    /** Undefined until the first reading of the cluster. */
    readonly membersLive: number | undefined;
    readonly partitionsUnowned: number | undefined;
    readonly ownedLag: Lag | undefined;
  };
  ownershipChanges(): Iterable<OwnershipChangeCount>;
}

/** The cluster's gauges and the ownership changes counter, registered only in cluster mode. */
export function registerClusterMetrics(registry: Registry, source: ClusterMetricSource): void {
  const gauge = (name: string, help: string, value: () => number | undefined) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        // Nothing read yet: no sample rather than a false zero.
        this.reset();
        const current = value();
        if (current !== undefined) this.set(current);
      },
    });
  gauge(
    "switchboard_cluster_partitions_owned",
    "Partitions this instance owns now.",
    () => source.figures().partitionsOwned,
  );
  gauge(
    "switchboard_cluster_members_live",
    "Cluster members whose heartbeat is younger than a lease (read at most once a second).",
    () => source.figures().membersLive,
  );
  gauge(
    "switchboard_cluster_partitions_unowned",
    "Partitions no instance owns (between owners; read at most once a second).",
    () => source.figures().partitionsUnowned,
  );
  gauge(
    "switchboard_cluster_owned_queued_messages",
    "Messages queued in the partitions this instance owns (read at most once a second).",
    () => source.figures().ownedLag?.queued,
  );
  gauge(
    "switchboard_cluster_owned_oldest_queued_seconds",
    "How long the oldest message queued in this instance's partitions has waited (0: none waits).",
    () => {
      const lag = source.figures().ownedLag;
      return lag === undefined ? undefined : (lag.oldestQueuedAgeMs ?? 0) / 1000;
    },
  );
  new Counter({
    name: "switchboard_cluster_ownership_changes_total",
    help: "Partitions this instance gained or lost, per change and reason (acquired, rebalanced, taken, expired, stopped).",
    labelNames: ["change", "reason"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { change, reason, partitions } of source.ownershipChanges()) {
        this.inc({ change, reason }, partitions);
      }
    },
  });
}
