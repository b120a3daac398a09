import assert from "node:assert/strict";
import { test } from "node:test";
import { Ownership } from "../src/cluster/ownership.js";
import { partitionOf } from "../src/cluster/partition-hash.js";
import { appendMessages } from "../src/store/postgres/ingress-messages.js";
import { LATEST_SCHEMA_VERSION } from "../src/store/postgres/migrations.js";
import { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { assertCleanFailure, switchboard } from "./support/cli-command.js";
import { createTestDatabase } from "./support/postgres-database.js";
import { freePort } from "./support/redis-process.js";

test("store init creates the schema and the cluster once, and refuses another partition count", async (t) => {
  const database = await createTestDatabase("cli_store_init", t);
  const created = await switchboard(["store", "init", "--store", database.url, "--partitions", "8"]);
  assert.equal(created.code, 0, created.stderr);
  assert.match(
    created.stdout,
    new RegExp(`schema version ${LATEST_SCHEMA_VERSION} \\(created\\), 8 partitions`),
  );

  // SWITCHBOARD_STORE stands in for --store; without --partitions the cluster's count is kept.
  const again = await switchboard(["store", "init"], { SWITCHBOARD_STORE: database.url });
  assert.equal(again.code, 0, again.stderr);
  assert.match(
    again.stdout,
    new RegExp(`schema version ${LATEST_SCHEMA_VERSION} \\(already current\\), 8 partitions`),
  );

  assertCleanFailure(
    await switchboard(["store", "init", "--store", database.url, "--partitions", "16"]),
    /has 8 partitions, this instance was started with 16/,
  );
  assertCleanFailure(
    await switchboard(["store", "init", "--store", database.url, "--partitions", "zero"]),
    /partition count must be a whole number from 1 to 65536, not zero/,
  );
});

test("store status shows members, partition owners, epochs, leases and queued messages", async (t) => {
  let store: PostgresStore | undefined;
  let ownership: Ownership | undefined;
  // Registered before the database's drop, so it runs first.
  t.after(async () => {
    await ownership?.stop();
    await store?.close();
  });
  const database = await createTestDatabase("cli_store_status", t);
  store = await PostgresStore.open({ url: database.url, partitions: 4, maxConnections: 2 });
  ownership = await Ownership.start({
    pool: store.pool,
    partitionCount: store.partitionCount,
    instanceId: "instance-a",
    host: "box-1",
    ports: { admin: 8099, ingress: 8090 },
    manualTicks: true,
    leaseMs: 60_000,
  });
  const messages = ["x", "y", "z"].map((id) => ({
    target: { fn: "a/f", id },
    argument: { typename: "t", hasValue: false, value: new Uint8Array(0) },
  }));
  await store.transaction((transaction) => appendMessages(transaction, messages, 4));
  const queued = new Array<number>(4).fill(0);
  for (const id of ["x", "y", "z"]) {
    const partition = partitionOf("a/f", id, 4);
    queued[partition] = (queued[partition] ?? 0) + 1;
  }

  const text = await switchboard(["store", "status", "--store", database.url]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stdout,
    new RegExp(`schema version ${LATEST_SCHEMA_VERSION}, 4 partitions, created .*, 3 messages queued`),
  );
  assert.match(text.stdout, /instance-a\s+box-1\s+admin=8099 ingress=8090\s+\d+\.\d s ago\s+4/);
  for (let partition = 0; partition < 4; partition++) {
    assert.match(
      text.stdout,
      new RegExp(`\\n\\s+${partition}\\s+instance-a\\s+1\\s+\\d+\\.\\d s left\\s+${queued[partition]}\\n`),
    );
  }

  const json = await switchboard(["store", "status", "--json"], { SWITCHBOARD_STORE: database.url });
  assert.equal(json.code, 0, json.stderr);
  const status = JSON.parse(json.stdout);
  assert.equal(status.partitionCount, 4);
  assert.deepEqual(
    status.members.map((member: { instanceId: string; partitions: number }) => [
      member.instanceId,
      member.partitions,
    ]),
    [["instance-a", 4]],
  );
  assert.deepEqual(
    status.partitions.map((partition: { owner: string; epoch: number; queued: number }) => [
      partition.owner,
      partition.epoch,
      partition.queued,
    ]),
    queued.map((count) => ["instance-a", 1, count]),
  );
});

test("store commands fail with one clear line for a missing, malformed, unreachable or empty store", async (t) => {
  assertCleanFailure(await switchboard(["store", "status"]), /no store given: pass --store/);
  const malformed = await switchboard(["store", "status", "--store", "mysql://admin:hunter2@db/x"]);
  assertCleanFailure(malformed, /scheme mysql, expected postgres/);
  assert.doesNotMatch(malformed.stderr, /hunter2/);
  const port = await freePort();
  const unreachable = await switchboard([
    "store",
    "init",
    "--store",
    `postgres://admin:hunter2@127.0.0.1:${port}/x`,
  ]);
  assertCleanFailure(unreachable, /cannot be reached/);
  assert.doesNotMatch(unreachable.stderr, /hunter2/);
  const empty = await createTestDatabase("cli_store_empty", t);
  assertCleanFailure(
    await switchboard(["store", "status", "--store", empty.url]),
    /holds no Switchboard cluster yet; `switchboard store init --store URL` creates one/,
  );
});
