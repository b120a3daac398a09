import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import pg from "pg";
import { importSqliteStore } from "../src/store/import/import-sqlite-store.js";
import type { NewMessage } from "../src/store/records.js";
import { Store } from "../src/store/store.js";
import { createTestDatabase } from "./support/postgres-database.js";
import { tempDir } from "./support/temp-dir.js";

const MESSAGES = 50_000;
const ADDRESSES = 1000;
const VALUE_BYTES = 1024;
const MIB = 1024 * 1024;

// A full collection before each sample, so a sample counts what the import holds rather than
// garbage V8 has not collected yet (it lets some 64 MiB of dead buffers pile up first).
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;
const liveBytes = () => {
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
};

test(`a store of ${MESSAGES} messages imports in bounded memory, in order`, async (t) => {
  const dataDir = join(tempDir(t), "data");
  const store = Store.open(dataDir, "normal");
  try {
    const value = new Uint8Array(VALUE_BYTES).fill(7);
    for (let start = 0; start < MESSAGES; start += 5000) {
      await store.commits.submit(() => {
        for (let n = start; n < start + 5000; n++) {
          const message: NewMessage = {
            target: { fn: "load/f", id: `k${n % ADDRESSES}` },
            argument: { typename: "load/bytes", hasValue: true, value },
          };
          store.messages.insert(message, n);
        }
      });
    }
  } finally {
    store.close();
  }
  const database = await createTestDatabase("import_large", t);

  const baseline = { live: liveBytes(), rss: process.memoryUsage().rss };
  const peak = { ...baseline };
  const sampler = setInterval(() => {
    peak.rss = Math.max(peak.rss, process.memoryUsage().rss);
    peak.live = Math.max(peak.live, liveBytes());
  }, 100);
  let summary: Awaited<ReturnType<typeof importSqliteStore>>;
  try {
    summary = await importSqliteStore({ dataDir, url: database.url, partitions: 16 });
  } finally {
    clearInterval(sampler);
  }
  const payloadMiB = (MESSAGES * VALUE_BYTES) / MIB;
  const liveGrowthMiB = (peak.live - baseline.live) / MIB;
  t.diagnostic(
    `${MESSAGES} messages (${payloadMiB.toFixed(0)} MiB of values) imported in ${(summary.elapsedMs / 1000).toFixed(2)} s ` +
      `(with a full GC every 100 ms); RSS ${(baseline.rss / MIB).toFixed(0)} MiB before, peak ${(peak.rss / MIB).toFixed(0)} MiB; ` +
      `live JS heap + buffers peaked ${liveGrowthMiB.toFixed(1)} MiB above the start`,
  );
  assert.equal(summary.tables.find((table) => table.table === "messages")?.rows, MESSAGES);
  // A page holds at most 2000 rows or 4 MiB of values (twice: read, then sent), plus the
  // drivers' buffers: 11 MiB measured on Node 20 (better-sqlite3 12), 18 MiB on Node 22
  // (better-sqlite3 13). Loading the table whole would hold all 49 MiB (and more, as read and
  // as sent).
  assert.ok(liveGrowthMiB < payloadMiB * 0.6, `live memory grew by ${liveGrowthMiB.toFixed(1)} MiB`);

  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    // Seqs kept: 1..N in acceptance order, so every address's messages are in the node's order.
    const { rows } = await client.query<{ n: number; first: string; last: string; misplaced: number }>(
      `SELECT count(*)::integer AS n, min(seq) AS first, max(seq) AS last,
         count(*) FILTER (WHERE accepted_at <> seq - 1 OR id <> 'k' || ((seq - 1) % ${ADDRESSES}))::integer AS misplaced
       FROM messages`,
    );
    assert.deepEqual(rows[0], { n: MESSAGES, first: "1", last: String(MESSAGES), misplaced: 0 });
  } finally {
    await client.end();
  }
});
