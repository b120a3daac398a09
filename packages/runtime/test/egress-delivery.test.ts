import assert from "node:assert/strict";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { partitionOf } from "../src/cluster/partition-hash.js";
import type { Logger } from "../src/dispatch/logger.js";
import { OutboxDeliverer } from "../src/io/outbox-deliverer.js";
import type { EgressStore, ResultWrite, StoreBackend } from "../src/store/contract.js";
import type { AddressRef, NewEgressRecord, StoredEgressRecord } from "../src/store/records.js";
import { SqliteBackend } from "../src/store/sqlite-backend.js";
import { Store } from "../src/store/store.js";
import { testPostgresCluster } from "./support/postgres-backend.js";
import { tempDir } from "./support/temp-dir.js";
import { until } from "./support/until.js";

const PARTITIONS = 8;
const EGRESS = "test/out";

interface LogLine {
  readonly level: "info" | "warn" | "error";
  readonly fields: Record<string, unknown>;
  readonly message: string | undefined;
}

function capturingLogger(lines: LogLine[]): Logger {
  const at =
    (level: LogLine["level"]) =>
    (fields: object, message?: string): void => {
      lines.push({ level, fields: fields as Record<string, unknown>, message });
    };
  const logger: Logger = {
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    debug() {},
    child: () => logger,
  };
  return logger;
}

function records(count: number, from = 0): NewEgressRecord[] {
  return Array.from({ length: count }, (_, index) => ({
    egress: EGRESS,
    typename: "test/text",
    value: Buffer.from(String(from + index)),
  }));
}

function resultWithEgress(address: AddressRef, egress: NewEgressRecord[]): ResultWrite {
  return {
    address,
    plan: { outgoing: [], delayed: [], egress, mutations: [] },
    consumed: [],
    specs: [],
    clearSuspension: false,
    now: 1,
  };
}

const text = (record: StoredEgressRecord) => Buffer.from(record.value).toString("utf8");

function sqliteBackend(t: TestContext): StoreBackend {
  const store = Store.open(join(tempDir(t), "data"));
  t.after(() => store.close());
  return new SqliteBackend(store);
}

test("a deliverer drains the outbox in order, a page per store read, deleting each record once delivered", async (t) => {
  const backend = sqliteBackend(t);
  await backend.applyResult(resultWithEgress({ fn: "test/f", id: "a" }, records(250)));
  let reads = 0;
  const counted: EgressStore = {
    ...backend.egress,
    pending: (egress, afterSeq, limit) => {
      reads++;
      return backend.egress.pending(egress, afterSeq, limit);
    },
  };
  const delivered: string[] = [];
  const deliverer = new OutboxDeliverer(
    EGRESS,
    counted,
    async (record) => {
      delivered.push(text(record));
    },
    capturingLogger([]),
  );
  deliverer.wake();
  await until("250 deliveries", () => delivered.length === 250);
  await deliverer.stop();
  assert.deepEqual(
    delivered,
    records(250).map((record) => Buffer.from(record.value).toString("utf8")),
  );
  assert.equal(await backend.egress.count(), 0);
  assert.equal(reads, 4, "three pages of up to 100, then one read that finds the outbox empty");
});

test("a failed delivery leaves the record in the outbox and is retried with backoff", async (t) => {
  const backend = sqliteBackend(t);
  await backend.applyResult(resultWithEgress({ fn: "test/f", id: "a" }, records(2)));
  const lines: LogLine[] = [];
  const delivered: string[] = [];
  let refusals = 2;
  const deliverer = new OutboxDeliverer(
    EGRESS,
    backend.egress,
    async (record) => {
      if (refusals-- > 0) throw new Error("receiver down");
      delivered.push(text(record));
    },
    capturingLogger(lines),
    { initialMs: 5, maxMs: 20 },
  );
  deliverer.wake();
  await until("both records delivered", () => delivered.length === 2);
  await deliverer.stop();
  assert.deepEqual(delivered, ["0", "1"], "in order, the first one retried until it went through");
  assert.equal(lines.filter((line) => line.level === "warn").length, 2, "one warning per failure");
  assert.equal(await backend.egress.count(), 0);
});

/** Addresses `test/f/k<n>`, so a test can pick an address by partition. */
function addressInPartition(partition: number): AddressRef {
  for (let n = 0; n < 10_000; n++) {
    const address = { fn: "test/f", id: `k${n}` };
    if (partitionOf(address.fn, address.id, PARTITIONS) === partition) return address;
  }
  throw new Error(`no address found for partition ${partition}`);
}

test("a deliverer that lost a partition leaves its records to the new owner, which delivers them again", async (t) => {
  const { join } = await testPostgresCluster("egress_handover", t, PARTITIONS);
  const a = await join("a");
  const b = await join("b");
  assert.equal(a.owner.owned().length, PARTITIONS, "a came first and owns everything");
  await a.backend.applyResult(resultWithEgress(addressInPartition(0), records(2, 0)));
  await a.backend.applyResult(resultWithEgress(addressInPartition(5), records(2, 10)));

  // a's leases run out and b takes partitions 0-3; a has not noticed yet.
  await a.store.pool.query("UPDATE partitions SET lease_expires_at = now() - interval '1 second'");
  await b.owner.tick();
  assert.deepEqual(
    b.owner.owned().map((lease) => lease.partition),
    [0, 1, 2, 3],
  );

  const lines: LogLine[] = [];
  const byA: string[] = [];
  const deliverer = (
    backend: StoreBackend,
    into: string[],
    logger: Logger,
  ): { wake(): void; stop(): Promise<void> } =>
    new OutboxDeliverer(
      EGRESS,
      backend.egress,
      async (record) => {
        into.push(text(record));
      },
      logger,
    );
  const atA = deliverer(a.backend, byA, capturingLogger(lines));
  atA.wake();
  await until("a's three deliveries", () => byA.length === 3);
  await atA.stop();
  assert.deepEqual(
    byA,
    ["0", "10", "11"],
    "a delivered the lost partition's first record before its delete was refused, then only its own",
  );
  assert.deepEqual(
    lines.map((line) => [line.level, line.fields.code]),
    [["info", "SB_CLUSTER_OWNERSHIP_LOST"]],
    "quietly: one info line, no warning, no retry",
  );
  assert.equal(a.owner.epochOf(0), undefined, "the refused delete dropped partition 0");

  const byB: string[] = [];
  const atB = deliverer(b.backend, byB, capturingLogger([]));
  atB.wake();
  await until("b's two deliveries", () => byB.length === 2);
  await atB.stop();
  assert.deepEqual(byB, ["0", "1"], "the new owner delivers the record a delivered too: at least once");
  assert.equal(await b.backend.egress.count(), 0);
});
