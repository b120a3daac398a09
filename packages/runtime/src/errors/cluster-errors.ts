import type { ErrorDefinition } from "./switchboard-error.js";

/** Errors of cluster mode: partitions, their ownership and the instances sharing them. */
export const ClusterErrors = {
  /**
   * A transaction for a partition found another epoch than the one its writer holds: another
   * instance took the partition over. The transaction was rolled back; the writer must stop
   * serving the partition and never retry the write.
   */
  OWNERSHIP_LOST: { code: "SB_CLUSTER_OWNERSHIP_LOST", status: 503 },
  /** This instance was started with another partition count than the cluster was created with. */
  PARTITION_MISMATCH: { code: "SB_CLUSTER_PARTITION_MISMATCH", status: 500 },
  /** A partition count that is not a whole number from 1 to 65536. */
  BAD_PARTITION_COUNT: { code: "SB_CLUSTER_BAD_PARTITION_COUNT", status: 500 },
  /** Lease or heartbeat settings that cannot work (a heartbeat not shorter than the lease). */
  BAD_LEASE: { code: "SB_CLUSTER_BAD_LEASE", status: 500 },
  /** `--advertise-host` is not a host name, IPv4 or IPv6 address (a URL, a port, a space): nothing was started. */
  BAD_ADVERTISE_HOST: { code: "SB_CLUSTER_BAD_ADVERTISE_HOST", status: 500 },
} as const satisfies Record<string, ErrorDefinition>;
