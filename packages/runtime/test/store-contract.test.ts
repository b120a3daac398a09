/**
 * The store contract suite against every backend: the embedded SQLite store always; the
 * PostgreSQL backend runs in its own file (it needs a database server).
 */
import { join } from "node:path";
import { SqliteBackend } from "../src/store/sqlite-backend.js";
import { Store } from "../src/store/store.js";
import { runStoreContract } from "./support/store-contract.js";
import { tempDir } from "./support/temp-dir.js";

runStoreContract("sqlite", async (t) => {
  const dir = join(tempDir(t), "data");
  return { open: async () => new SqliteBackend(Store.open(dir, "normal")) };
});
