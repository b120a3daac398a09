/**
 * Child process of sqlite-driver.test.ts: prepares and drops writing statements by the
 * thousand on a connection from the store's SQLite driver, with idle time between rounds, and
 * exits with garbage left to collect. better-sqlite3 12 built for Node >= 24.19 aborts here
 * (SIGABRT in Statement::~Statement) when V8 frees those statements. Run with --expose-gc.
 */
import { openSqlite } from "../../src/store/sqlite-driver.js";

const ROUNDS = 5;
const STATEMENTS_PER_ROUND = 20_000;

const db = openSqlite(":memory:");
db.exec("CREATE TABLE churn (k INTEGER PRIMARY KEY, v TEXT)");
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < STATEMENTS_PER_ROUND; i++) {
    db.prepare("INSERT OR REPLACE INTO churn (k, v) VALUES (?, ?)").run(i % 100, `v${i}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
}
db.close();
globalThis.gc?.();
console.log("churned");
