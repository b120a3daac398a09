import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { Store } from "../src/store/store.js";
import { assertCleanFailure, switchboard } from "./support/cli-command.js";
import { writeNodeStore } from "./support/node-store-fixture.js";
import { createTestDatabase } from "./support/postgres-database.js";
import { tempDir } from "./support/temp-dir.js";

test("store import copies a node's store, prints what it copied, and refuses a second time", async (t) => {
  const dataDir = join(tempDir(t), "data");
  await writeNodeStore(dataDir);
  const database = await createTestDatabase("cli_store_import", t);

  const imported = await switchboard([
    "store",
    "import",
    "--data-dir",
    dataDir,
    "--store",
    database.url,
    "--partitions",
    "8",
  ]);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(
    imported.stdout,
    new RegExp(`^imported ${dataDir} into postgres://.* \\(8 partitions\\): 24 rows in \\d+\\.\\d\\d s\\n`),
  );
  for (const [label, rows] of [
    ["specs", 2],
    ["state values", 2],
    ["messages", 13],
    ["timers", 2],
    ["egress records", 2],
    ["suspensions", 1],
    ["dead letters", 2],
  ] as const) {
    assert.match(imported.stdout, new RegExp(`\\n  ${label} +${rows}\\n`));
  }

  const again = await switchboard(["store", "import", "--data-dir", dataDir, "--store", database.url]);
  assertCleanFailure(again, /cannot take an import: it holds messages, state, .*nothing was changed/);
});

test("store import refuses a data directory a running store holds, naming its pid", async (t) => {
  const dataDir = join(tempDir(t), "data");
  await writeNodeStore(dataDir);
  const database = await createTestDatabase("cli_store_import_locked", t);
  const running = Store.open(dataDir, "normal");
  t.after(() => running.close());

  assertCleanFailure(
    await switchboard(["store", "import", "--data-dir", dataDir, "--store", database.url]),
    new RegExp(`in use by pid ${process.pid} on .*: a copy of a store that is running is not consistent`),
  );
});

test("store import fails with one clear line for a bad URL or a directory without a store", async (t) => {
  const dir = tempDir(t);
  const dataDir = join(dir, "data");
  await writeNodeStore(dataDir);
  assertCleanFailure(
    await switchboard(["store", "import", "--data-dir", dataDir]),
    /no store given: pass --store/,
  );
  const malformed = await switchboard([
    "store",
    "import",
    "--data-dir",
    dataDir,
    "--store",
    "mysql://admin:hunter2@db/x",
  ]);
  assertCleanFailure(malformed, /scheme mysql, expected postgres/);
  assert.doesNotMatch(malformed.stderr, /hunter2/);
  const database = await createTestDatabase("cli_store_import_nostore", t);
  assertCleanFailure(
    await switchboard(["store", "import", "--data-dir", join(dir, "elsewhere"), "--store", database.url]),
    /holds no Switchboard store \(no switchboard\.db\); pass the --data-dir the node ran with/,
  );
});
