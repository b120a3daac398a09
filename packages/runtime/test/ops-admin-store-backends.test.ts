/**
 * The admin API over each store backend: the same stored data gives the same answers on the
 * embedded SQLite store and on PostgreSQL, since the routes use only the store contract.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import type { ModuleConfig } from "../src/config/model.js";
import type { Dispatcher } from "../src/dispatch/dispatcher.js";
import { silentLogger } from "../src/dispatch/logger.js";
import { Metrics } from "../src/ops/metrics.js";
import { Ops } from "../src/ops/ops.js";
import type { StoreBackend } from "../src/store/contract.js";
import { ExpireMode, type StateSpec } from "../src/store/records.js";
import { SqliteBackend } from "../src/store/sqlite-backend.js";
import { Store } from "../src/store/store.js";
import type { Transport } from "../src/transport/types.js";
import { testPostgresBackend } from "./support/postgres-backend.js";
import { tempDir } from "./support/temp-dir.js";
import { namespaceRouter } from "./support/test-router.js";

type Json = Record<string, unknown>;

const COUNT: StateSpec = {
  name: "count",
  typename: "test/int",
  expireMode: ExpireMode.NONE,
  expireAfterMs: 0,
};
const EMPTY = { outgoing: [], delayed: [], egress: [], mutations: [] };
const bytes = (text: string) => Buffer.from(text);
const message = (id: string, body: string) => ({
  target: { fn: "test/f", id },
  argument: { typename: "test/text", hasValue: true, value: bytes(body) },
});

/** The same history on every backend: a backlog, a timer each way, state, egress, dead letters. */
async function seed(store: StoreBackend): Promise<void> {
  await store.specs.register("test/f", [COUNT], 1);
  await store.messages.accept(message("a", "first"), 10);
  await store.messages.accept(message("a", "second"), 11);
  await store.applyResult({
    address: { fn: "test/f", id: "a" },
    consumed: [],
    specs: [COUNT],
    clearSuspension: false,
    now: 12,
    plan: {
      ...EMPTY,
      delayed: [
        {
          kind: "schedule",
          timer: {
            sender: { fn: "test/f", id: "a" },
            token: "t1",
            dueAt: 5000,
            message: message("b", "later"),
          },
        },
      ],
      egress: [{ egress: "test/out", typename: "test/text", value: bytes("out") }],
      mutations: [{ kind: "modify", spec: COUNT, value: bytes("7") }],
    },
  });
  await store.messages.accept(message("c", "poison 1"), 20);
  await store.messages.accept(message("c", "poison 2"), 21);
  await store.deadLetters.moveBacklog({ fn: "test/f", id: "c" }, { code: "SB_X", message: "boom" }, 30);
}

/** Just what the admin routes read of a dispatcher: nothing in flight, nothing suspended. */
function idleDispatcher(specs: ReadonlyMap<string, readonly StateSpec[]>): Dispatcher {
  const window = { percentiles: () => [1, 2, 3], count: 0 };
  return {
    registeredSpecs: () => specs,
    suspendedAddresses: () => [],
    isInFlight: () => false,
    endpointsDown: () => [],
    applyLatency: window,
    batchSizes: window,
    stats: () => ({}),
  } as unknown as Dispatcher;
}

async function startAdmin(t: TestContext, store: StoreBackend): Promise<{ ops: Ops; admin: string }> {
  const ops = await Ops.start(
    {
      config: {} as ModuleConfig,
      router: namespaceRouter(["test"]),
      endpoints: () => [],
      store,
      dispatcher: idleDispatcher(await store.specs.all()),
      transport: { stats: () => [] } as unknown as Transport,
      egresses: [],
      metrics: new Metrics({ defaultMetrics: false }),
      cache: { reachable: true },
    },
    { port: 0 },
    silentLogger,
  );
  t.after(() => ops.stop());
  ops.markReady();
  return { ops, admin: ops.adminUrl as string };
}

async function call(url: string, method = "GET"): Promise<{ status: number; body: Json }> {
  const response = await fetch(url, { method });
  return { status: response.status, body: (await response.json()) as Json };
}

/** What each route answers on a seeded backend; the backend is closed at the end. */
async function answers(t: TestContext, store: StoreBackend): Promise<Record<string, unknown>> {
  await seed(store);
  const { admin } = await startAdmin(t, store);
  const listed = await call(`${admin}/api/dead-letters`);
  const [first, second] = listed.body.deadLetters as Array<{ id: number }>;
  assert.ok(first && second, "two dead letters");
  const overview = (await call(`${admin}/api/overview`)).body;
  const result = {
    a: await call(`${admin}/api/addresses/test/f/a`),
    b: await call(`${admin}/api/addresses/test/f/b`),
    c: await call(`${admin}/api/addresses/test/f/c`),
    listed,
    filtered: await call(`${admin}/api/dead-letters?fn=test/f&id=c&limit=1`),
    one: await call(`${admin}/api/dead-letters/${second.id}`),
    dropped: await call(`${admin}/api/dead-letters/${first.id}`, "DELETE"),
    droppedAgain: (await call(`${admin}/api/dead-letters/${first.id}`, "DELETE")).status,
    remaining: (await call(`${admin}/api/dead-letters`)).body.total,
    counts: { egressPending: overview.egressPending, deadLetters: overview.deadLetters },
    ready: await call(`${admin}/readyz`),
  };
  const commits = overview.store as Json;
  assert.ok((commits.commits as number) > 0 && (commits.lastGroupSize as number) >= 1, "commit figures");
  await store.close();
  assert.deepEqual((await call(`${admin}/readyz`)).body.checks, {
    store: false,
    configuration: true,
    running: true,
    cache: true,
  });
  return result;
}

test("the admin API answers the same over the SQLite and the PostgreSQL store", async (t) => {
  const store = Store.open(join(tempDir(t), "data"), "normal");
  t.after(() => store.close());
  const sqlite = await answers(t, new SqliteBackend(store));
  const { backend } = await testPostgresBackend("admin_backends", t);
  const postgres = await answers(t, backend);

  const a = (sqlite.a as { body: Json }).body;
  assert.deepEqual(
    (a.backlog as Json[]).map((entry) => entry.seq),
    [1, 2],
  );
  assert.deepEqual(
    (a.state as Json[]).map((entry) => [entry.name, entry.present]),
    [["count", true]],
  );
  assert.equal(((a.timers as Json).sent as Json[]).length, 1);
  assert.equal((((sqlite.b as { body: Json }).body.timers as Json).incoming as Json[]).length, 1);
  assert.equal((sqlite.c as { body: Json }).body.deadLetters, 2);
  assert.equal((sqlite.dropped as { status: number }).status, 200);
  assert.equal(sqlite.droppedAgain, 404);
  assert.equal(sqlite.remaining, 1);
  assert.deepEqual(sqlite.counts, { egressPending: 1, deadLetters: 2 });
  assert.equal((sqlite.ready as { status: number }).status, 200);
  assert.deepEqual(postgres, sqlite);
});
