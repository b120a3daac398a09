import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { type TestContext, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { notifiedMinSeq } from "../src/cluster/partition-channel.js";
import { partitionOf } from "../src/cluster/partition-hash.js";
import { PartitionListener } from "../src/cluster/partition-listener.js";
import { appendMessages } from "../src/store/postgres/ingress-messages.js";
import { readMessagesAfter } from "../src/store/postgres/partition-messages.js";
import { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { parseStoreUrl } from "../src/store/postgres/store-url.js";
import type { NewMessage } from "../src/store/records.js";
import { createTestDatabase } from "./support/postgres-database.js";
import { TcpProxy } from "./support/tcp-proxy.js";
import { until } from "./support/until.js";

/** How the waits in this file poll. */
const POLL = { intervalMs: 20 };

const PARTITIONS = 8;

function message(fn: string, id: string, text = "hi"): NewMessage {
  return {
    target: { fn, id },
    argument: { typename: "t/s", hasValue: true, value: new TextEncoder().encode(text) },
  };
}

async function setUp(t: TestContext, label: string) {
  let store: PostgresStore | undefined;
  let listener: PartitionListener | undefined;
  t.after(async () => {
    await listener?.close();
    await store?.close();
  });
  const database = await createTestDatabase(label, t);
  store = await PostgresStore.open({ url: database.url, partitions: PARTITIONS, maxConnections: 3 });
  const notified: number[] = [];
  const heard: { partition: number; minSeq: number | undefined }[] = [];
  const catchUps: (readonly number[])[] = [];
  const applicationName = `sb-listener-${randomBytes(4).toString("hex")}`;
  listener = await PartitionListener.start({
    url: store.url,
    applicationName,
    onNotify: (partition, minSeq) => {
      notified.push(partition);
      heard.push({ partition, minSeq });
    },
    onCatchUp: (partitions) => catchUps.push(partitions),
    reconnectDelayMs: { min: 50, max: 400 },
  });
  return { store, listener, notified, heard, catchUps, applicationName };
}

test("a committed ingress insert notifies each of its partitions once; a rolled-back one notifies none", async (t) => {
  const { store, listener, notified } = await setUp(t, "notify_commit");
  await listener.listen(Array.from({ length: PARTITIONS }, (_, i) => i));
  const batch = [message("a/f", "1"), message("a/f", "2"), message("a/f", "1", "again"), message("b/g", "x")];
  const expected = [...new Set(batch.map((m) => partitionOf(m.target.fn, m.target.id, PARTITIONS)))].sort();

  await assert.rejects(
    store.transaction(async (transaction) => {
      await appendMessages(transaction, batch, PARTITIONS);
      throw new Error("abandon the group");
    }),
    /abandon the group/,
  );
  const seqs = await store.transaction((transaction) => appendMessages(transaction, batch, PARTITIONS, 1234));
  await until("a notification for every partition written", () => notified.length >= expected.length, POLL);
  await sleep(100);
  assert.deepEqual(
    [...notified].sort(),
    expected,
    "one notification per partition, none for the rolled-back group",
  );

  assert.equal(seqs.length, batch.length);
  const { rows } = await store.pool.query(
    "SELECT seq, partition, fn, id, typename, has_value, value, accepted_at, caller_fn FROM messages ORDER BY seq",
  );
  assert.deepEqual(
    rows.map((row) => Number(row.seq)),
    seqs,
  );
  assert.deepEqual(
    rows.map((row) => [
      row.partition,
      row.fn,
      row.id,
      Buffer.from(row.value).toString(),
      Number(row.accepted_at),
    ]),
    batch.map((m) => [
      partitionOf(m.target.fn, m.target.id, PARTITIONS),
      m.target.fn,
      m.target.id,
      new TextDecoder().decode(m.argument.value),
      1234,
    ]),
  );
  assert.equal(rows[0].caller_fn, null);
});

test("each partition's notification carries the lowest seq the transaction added there", async (t) => {
  const { store, listener, heard } = await setUp(t, "notify_min_seq");
  const inPartition = (partition: number) =>
    Array.from({ length: 500 }, (_, i) => message("a/f", `p${i}`)).filter(
      (m) => partitionOf(m.target.fn, m.target.id, PARTITIONS) === partition,
    );
  const [a1, a2] = inPartition(2);
  const [b1, b2] = inPartition(6);
  const [elsewhere] = inPartition(0);
  await listener.listen([2, 6]);
  // A message of another partition goes first, so neither partition's lowest seq is the statement's.
  const batch = [elsewhere, b1, a1, b2, a2] as NewMessage[];
  const seqs = await appendMessages(store.pool, batch, PARTITIONS);
  await until("both partitions to be heard", () => heard.length >= 2, POLL);
  await sleep(100);
  assert.deepEqual(
    [...heard].sort((x, y) => x.partition - y.partition),
    [
      { partition: 2, minSeq: seqs[2] },
      { partition: 6, minSeq: seqs[1] },
    ],
  );
  assert.ok((seqs[0] as number) < (seqs[1] as number), "the first message's seq is lower than both");

  // A NOTIFY without a seq (sent by hand, or by an older writer) says "look from the start".
  heard.length = 0;
  await store.pool.query("SELECT pg_notify('sb_partition_2', ''), pg_notify('sb_partition_6', '12x')");
  await until("both partitions to be heard", () => heard.length >= 2, POLL);
  assert.deepEqual(
    heard.map((entry) => entry.minSeq),
    [undefined, undefined],
  );
});

test("a notification's payload gives a seq only when it is one", () => {
  assert.equal(notifiedMinSeq("42"), 42);
  assert.equal(notifiedMinSeq("9007199254740991"), 9007199254740991);
  for (const garbled of [undefined, "", "0", "-3", "4.5", "1e3", " 7", "7 ", "0x10", "99999999999999999"]) {
    assert.equal(notifiedMinSeq(garbled), undefined, `payload ${JSON.stringify(garbled)}`);
  }
});

test("the listener hears only the partitions it listens to, and nothing after unlisten", async (t) => {
  const { store, listener, notified } = await setUp(t, "notify_filter");
  const target = message("a/f", "1");
  const partition = partitionOf("a/f", "1", PARTITIONS);
  const other = Array.from({ length: 100 }, (_, i) => message("a/f", `o${i}`)).find(
    (m) => partitionOf(m.target.fn, m.target.id, PARTITIONS) !== partition,
  ) as NewMessage;
  await listener.listen([partition]);
  await store.transaction((transaction) => appendMessages(transaction, [other, target], PARTITIONS));
  await until("the notification", () => notified.length > 0, POLL);
  await sleep(100);
  assert.deepEqual(notified, [partition]);

  await listener.unlisten([partition]);
  await store.transaction((transaction) => appendMessages(transaction, [target], PARTITIONS));
  await sleep(200);
  assert.deepEqual(notified, [partition], "no notification after unlisten");
});

test("a listener whose connection is killed reconnects, asks for a catch-up, and hears new messages again", async (t) => {
  const { store, listener, notified, catchUps, applicationName } = await setUp(t, "notify_reconnect");
  const partitions = [1, 3, 5];
  await listener.listen(partitions);
  assert.equal(listener.connected, true);

  const killed = await store.pool.query(
    "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1",
    [applicationName],
  );
  assert.equal(killed.rowCount, 1);
  // Sent while the listener is away: only the catch-up can find it.
  const missed = Array.from({ length: 200 }, (_, i) => message("a/f", `m${i}`)).find(
    (m) => partitionOf(m.target.fn, m.target.id, PARTITIONS) === 3,
  ) as NewMessage;
  await store.transaction((transaction) => appendMessages(transaction, [missed], PARTITIONS));

  await until("the catch-up", () => catchUps.length > 0, POLL);
  assert.deepEqual(catchUps, [partitions]);
  assert.equal(listener.connected, true);
  const found = await readMessagesAfter(store.pool, catchUps[0] ?? [], 0, 100);
  assert.deepEqual(
    found.map((m) => [m.partition, m.target.id, new TextDecoder().decode(m.argument.value)]),
    [[3, missed.target.id, "hi"]],
  );
  assert.deepEqual(await readMessagesAfter(store.pool, [3], found[0]?.seq ?? 0, 100), []);

  const before = notified.length;
  await store.transaction((transaction) => appendMessages(transaction, [missed], PARTITIONS));
  await until("a notification after the catch-up", () => notified.length > before, POLL);
  assert.equal(notified.at(-1), 3);
});

test("a listener behind a network that silently stops carrying data notices it, reconnects once it heals, and catches up", async (t) => {
  let proxy: TcpProxy | undefined;
  let store: PostgresStore | undefined;
  let listener: PartitionListener | undefined;
  t.after(async () => {
    proxy?.thaw();
    await listener?.close();
    await store?.close();
    await proxy?.close();
  });
  const database = await createTestDatabase("notify_silent", t);
  store = await PostgresStore.open({ url: database.url, partitions: PARTITIONS, maxConnections: 2 });
  const direct = new URL(database.url);
  proxy = await TcpProxy.start(direct.hostname, Number(direct.port || 5432));
  const viaProxy = new URL(database.url);
  viaProxy.port = String(proxy.port);
  const notified: number[] = [];
  const catchUps: (readonly number[])[] = [];
  const errors: unknown[] = [];
  listener = await PartitionListener.start({
    url: parseStoreUrl(viaProxy.toString()),
    onNotify: (partition) => notified.push(partition),
    onCatchUp: (partitions) => catchUps.push(partitions),
    onError: (error) => errors.push(error),
    reconnectDelayMs: { min: 50, max: 200 },
    healthCheckMs: 200,
  });
  const target = Array.from({ length: 200 }, (_, i) => message("a/f", `s${i}`)).find(
    (m) => partitionOf(m.target.fn, m.target.id, PARTITIONS) === 2,
  ) as NewMessage;
  await listener.listen([2]);

  proxy.freeze();
  await until("the listener to notice it is cut off", () => !listener?.connected, POLL);
  assert.ok(errors.length > 0, "the failed health check was reported");
  await store.transaction((transaction) => appendMessages(transaction, [target], PARTITIONS));
  proxy.thaw();
  await until("the catch-up after reconnecting", () => catchUps.length > 0, { ...POLL, timeoutMs: 20_000 });
  assert.deepEqual(catchUps[0], [2]);
  const before = notified.length;
  await store.transaction((transaction) => appendMessages(transaction, [target], PARTITIONS));
  await until("a notification after reconnecting", () => notified.length > before, POLL);
  assert.equal(notified.at(-1), 2);
});
