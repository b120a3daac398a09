/**
 * Child process of sqlite-driver.test.ts: prepares and drops statements by the thousand on the
 * store's own connection, idles between rounds so that V8 collects them from its own tasks
 * (outside any JS context, where better-sqlite3 12 built for Node >= 24.19 aborts), then exits
 * with garbage still to collect at teardown. Run with --expose-gc.
 *   node --import tsx statement-churn.ts <data dir>
 */
import { openDatabase } from "../../src/store/open-database.js";

const ROUNDS = 5;
const STATEMENTS_PER_ROUND = 20_000;

const db = openDatabase({ dataDir: process.argv[2] ?? "" });
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < STATEMENTS_PER_ROUND; i++)
    db.prepare("SELECT value FROM meta WHERE key = ?").get(`k${i}`);
  await new Promise((resolve) => setTimeout(resolve, 50));
}
db.close();
globalThis.gc?.();
console.log("churned");
