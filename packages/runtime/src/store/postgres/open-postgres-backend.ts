import { Ownership } from "../../cluster/ownership.js";
import type { OwnershipListener, OwnershipOptions } from "../../cluster/ownership-types.js";
import { PostgresBackend, type PostgresBackendOptions } from "./postgres-backend.js";
import { PostgresStore } from "./postgres-store.js";
import type { PostgresStoreOptions } from "./postgres-store-options.js";

export interface OpenPostgresBackendOptions extends PostgresStoreOptions {
  /** Ownership settings (instance id, lease, heartbeat, ...); the pool and count come from the store. */
  readonly ownership?: Omit<OwnershipOptions, "pool" | "partitionCount">;
  readonly backend?: PostgresBackendOptions;
  /** Hears the first tick's gains too. */
  readonly onOwnershipChange?: OwnershipListener;
}

export interface OpenedPostgresBackend {
  readonly backend: PostgresBackend;
  readonly ownership: Ownership;
  /**
   * The backend's close: commits what was submitted, hands the partitions over (so others take
   * them at once) and closes the pool.
   */
  close(): Promise<void>;
}

/**
 * Opens the store, joins the cluster and builds the backend on this instance's ownership
 * (which the backend's close() stops). An instance alone in the cluster owns every partition
 * after its first tick (unless a crashed instance's lease is still running: those partitions
 * follow when it runs out), and its owner-only writes are fenced all the same, so one started
 * by mistake next to it can never write under the other's feet.
 */
export async function openPostgresBackend(
  options: OpenPostgresBackendOptions,
): Promise<OpenedPostgresBackend> {
  const store = await PostgresStore.open(options);
  let ownership: Ownership;
  try {
    ownership = await Ownership.start(
      { ...options.ownership, pool: store.pool, partitionCount: store.partitionCount },
      options.onOwnershipChange,
    );
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  const backend = new PostgresBackend(store, ownership, {
    ...options.backend,
    beforePoolCloses: () => ownership.stop(),
  });
  return { backend, ownership, close: () => backend.close() };
}
