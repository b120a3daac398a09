import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { StoreFigures } from "../src/ops/store-figures.js";
import type { StoreBackend } from "../src/store/contract.js";
import { SqliteBackend } from "../src/store/sqlite-backend.js";
import { Store } from "../src/store/store.js";
import { tempDir } from "./support/temp-dir.js";

const outboxRecords = (count: number) => ({
  address: { fn: "test/f", id: "a" },
  plan: {
    outgoing: [],
    delayed: [],
    egress: Array.from({ length: count }, () => ({
      egress: "test/out",
      typename: "test/text",
      value: Buffer.from("x"),
    })),
    mutations: [],
  },
  consumed: [],
  specs: [],
  clearSuspension: false,
  now: 1,
});

test("store figures are recounted at most once a second: a scrape never waits, the overview only when they are stale", async (t) => {
  const store = Store.open(join(tempDir(t), "data"));
  t.after(() => store.close());
  const backend = new SqliteBackend(store);
  let counts = 0;
  const counted: StoreBackend = Object.create(backend, {
    egress: {
      value: {
        ...backend.egress,
        count: () => {
          counts++;
          return backend.egress.count();
        },
      },
    },
  });
  let now = 10_000;
  const figures = new StoreFigures(counted, () => now);
  await backend.applyResult(outboxRecords(3));

  assert.deepEqual(figures.latest(), { egressPending: 0, deadLetters: 0 }, "nothing counted yet");
  assert.deepEqual(await figures.fresh(), { egressPending: 3, deadLetters: 0 }, "joins the recount running");
  assert.equal(counts, 1);
  await backend.applyResult(outboxRecords(1));
  for (let index = 0; index < 10; index++) figures.latest();
  assert.deepEqual(await figures.fresh(), { egressPending: 3, deadLetters: 0 }, "within the second");
  assert.equal(counts, 1, "no recount within the second");
  now += 1000;
  assert.deepEqual(figures.latest(), { egressPending: 3, deadLetters: 0 }, "a scrape takes the last counts");
  assert.deepEqual(await figures.fresh(), { egressPending: 4, deadLetters: 0 });
  assert.equal(counts, 2, "one recount for the stale read-outs");
});
