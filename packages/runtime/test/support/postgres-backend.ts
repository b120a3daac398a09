import type { TestContext } from "node:test";
import {
  type OpenedPostgresBackend,
  type OpenPostgresBackendOptions,
  openPostgresBackend,
} from "../../src/store/postgres/open-postgres-backend.js";
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
