import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { isError, StoreErrors } from "../src/errors/index.js";
import { LOCK_OWNER_FILE } from "../src/store/data-dir-lock.js";
import { Store } from "../src/store/store.js";
import { spawnCli } from "./support/cli-child.js";
import { PLAYGROUND_INGRESS, UNREACHABLE_TEST_ENDPOINT, writeModuleYaml } from "./support/module-yaml.js";
import { tempDir } from "./support/temp-dir.js";

test("a second switchboard run on a data dir in use refuses, naming the holder's pid; after kill -9 the next start succeeds", async (t) => {
  const dir = tempDir(t);
  const file = writeModuleYaml(dir, UNREACHABLE_TEST_ENDPOINT, PLAYGROUND_INGRESS);
  const dataDir = join(dir, "data");
  const args = ["run", file, "--data-dir", dataDir, "--no-admin"];

  const first = spawnCli(t, args);
  await first.waitFor(/switchboard is running/, "first runtime to start");

  const second = spawnCli(t, args);
  assert.equal(await second.exitWithin(30_000), 1, "the second runtime exits with an error");
  assert.match(second.stderr(), new RegExp(`data directory .* is in use by pid ${first.pid}\\b`));
  assert.doesNotMatch(second.stdout(), /switchboard is running/);

  first.process.kill("SIGKILL");
  await first.exited;
  const third = spawnCli(t, args);
  await third.waitFor(/switchboard is running/, "a start after kill -9 of the holder");
  third.process.kill("SIGTERM");
  assert.equal(await third.exitWithin(30_000), 0, third.stderr());
  assert.equal(existsSync(join(dataDir, LOCK_OWNER_FILE)), false, "a clean stop removes the owner file");
});

test("one process cannot open a store twice on one data dir; closing releases it for the next open", (t) => {
  const dir = tempDir(t);
  const store = Store.open(dir);
  assert.throws(
    () => Store.open(dir),
    (error: unknown) => isError(error, StoreErrors.DATA_DIR_LOCKED) && error.details.pid === process.pid,
  );
  assert.equal(store.isOpen, true, "the refused open left the first store working");
  store.close();
  const again = Store.open(dir);
  again.close();
});
