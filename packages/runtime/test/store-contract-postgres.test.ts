/**
 * The store contract suite against the PostgreSQL backend: each test gets a database of its
 * own, and the backend an instance alone in its cluster (owning every partition) opens on it;
 * opening again after close is a restarted instance on the same database.
 */
import type { StoreBackend } from "../src/store/contract.js";
import { openPostgresBackend } from "../src/store/postgres/open-postgres-backend.js";
import { createTestDatabase } from "./support/postgres-database.js";
import { runStoreContract } from "./support/store-contract.js";

runStoreContract("postgres", async (t) => {
  const opened: StoreBackend[] = [];
  // Registered before the database's drop, so the backends close (and hand their partitions
  // over) while the database still exists; the suite's own close() after it finds them closed.
  t.after(async () => {
    for (const backend of opened) await backend.close();
  });
  const database = await createTestDatabase("contract", t);
  return {
    open: async () => {
      const { backend } = await openPostgresBackend({
        url: database.url,
        partitions: 8,
        maxConnections: 4,
        ownership: { manualTicks: true, leaseMs: 60_000 },
      });
      opened.push(backend);
      return backend;
    },
  };
});
