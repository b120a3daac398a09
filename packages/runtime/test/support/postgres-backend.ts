import type { TestContext } from "node:test";
import { Ownership } from "../../src/cluster/ownership.js";
import {
  type OpenedPostgresBackend,
  type OpenPostgresBackendOptions,
  openPostgresBackend,
} from "../../src/store/postgres/open-postgres-backend.js";
import { PostgresBackend } from "../../src/store/postgres/postgres-backend.js";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import { createTestDatabase } from "./postgres-database.js";

/**
 * A PostgresBackend on a database of its own, owning every partition (alone in its cluster),
 * closed and dropped when `t` ends: what a backend-agnostic store test needs from PostgreSQL.
 */
export async function testPostgresBackend(
  label: string,
  t: TestContext,
  options: Partial<OpenPostgresBackendOptions> = {},
): Promise<OpenedPostgresBackend & { readonly url: string }> {
  let opened: OpenedPostgresBackend | undefined;
  // Registered before the database's own drop, so it runs first.
  t.after(() => opened?.close());
  const database = await createTestDatabase(label, t);
  opened = await openPostgresBackend({
    url: database.url,
    maxConnections: 4,
    ...options,
    ownership: { manualTicks: true, leaseMs: 60_000, ...options.ownership },
  });
  return { ...opened, url: database.url };
}

/** One instance of a test cluster: its own pool, ownership (ticked by hand) and backend. */
export interface TestClusterInstance {
  readonly backend: PostgresBackend;
  readonly store: PostgresStore;
  readonly owner: Ownership;
}

/**
 * A cluster database of its own with `partitions` partitions; `join` starts an instance.
 * Every instance is stopped and closed when `t` ends, before the database is dropped.
 */
export async function testPostgresCluster(label: string, t: TestContext, partitions: number) {
  const instances: TestClusterInstance[] = [];
  // Registered before the database's own drop, so it runs first.
  t.after(async () => {
    for (const { owner, backend } of instances) {
      await owner.stop().catch(() => {});
      await backend.close().catch(() => {});
    }
  });
  const database = await createTestDatabase(label, t);
  const join = async (instanceId: string): Promise<TestClusterInstance> => {
    const store = await PostgresStore.open({ url: database.url, partitions, maxConnections: 4 });
    const owner = await Ownership.start({
      pool: store.pool,
      partitionCount: store.partitionCount,
      instanceId,
      manualTicks: true,
      leaseMs: 60_000,
    });
    const instance = { backend: new PostgresBackend(store, owner), store, owner };
    instances.push(instance);
    return instance;
  };
  return { join, url: database.url };
}
