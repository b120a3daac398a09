/**
 * Three `switchboard run --store postgres://…` processes sharing one PostgreSQL database, as
 * an operator runs a cluster. Messages go round-robin to all three ingresses for many keys;
 * one instance is killed with SIGKILL mid-load and another is frozen with SIGSTOP past its
 * lease and then resumed. Every acknowledged message must be applied exactly once and in
 * acknowledgement order per key, every delayed message must fire once, and every egress
 * record must be read once.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { type TestContext, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { type CliChild, spawnCli } from "./support/cli-child.js";
import { startFunctionServer } from "./support/function-server.js";
import { writeModuleYaml } from "./support/module-yaml.js";
import { createTestDatabase } from "./support/postgres-database.js";
import { ProtocolFunction } from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";

const LEDGER = "test/ids";
const RECORD = "io.statefun.playground/EgressRecord";
const KEYS = 24;
const PER_KEY = 20;
const LEASE_MS = 3000;
/** Every message whose id is a multiple of this schedules a delayed message. */
const TIMER_EVERY = 5;
const OFFSETS = [0, 100, 200];

function readIds(bytes: Uint8Array | undefined): number[] {
  return JSON.parse(Buffer.from(bytes ?? Buffer.from("[]")).toString()) as number[];
}

/** The functions: a ledger of applied ids per key (with egress and timers), and a ledger of fired timers. */
function ledgerFunctions() {
  const ledger = new ProtocolFunction([{ name: "ids", typename: LEDGER }], (state, invocation, effects) => {
    const id = Number(Buffer.from(invocation.argument?.value ?? []).toString());
    state.set("ids", Buffer.from(JSON.stringify([...readIds(state.get("ids")), id])));
    effects.egress.push({
      egressNamespace: "io.statefun.playground",
      egressType: "egress",
      argument: {
        typename: RECORD,
        hasValue: true,
        value: Buffer.from(JSON.stringify({ topic: "applied", payload: String(id) })),
      },
    });
    if (id % TIMER_EVERY === 0) {
      effects.delayed.push({
        delayInMs: 1500n,
        target: { namespace: "test", type: "fired", id: String(id % KEYS) },
        argument: invocation.argument ?? { typename: "test/id", hasValue: false },
      });
    }
  });
  const fired = new ProtocolFunction([{ name: "ids", typename: LEDGER }], (state, invocation) => {
    const id = Number(Buffer.from(invocation.argument?.value ?? []).toString());
    state.set("ids", Buffer.from(JSON.stringify([...readIds(state.get("ids")), id])));
  });
  return { "test/ledger": ledger, "test/fired": fired };
}

/** Two base ports such that base, base+100 and base+200 are all free. */
async function freeBases(): Promise<[number, number]> {
  const isFree = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
  const bases: number[] = [];
  for (let port = 20_000 + Math.floor(Math.random() * 20_000); bases.length < 2; port += 7) {
    if ((await Promise.all(OFFSETS.map((offset) => isFree(port + offset)))).every(Boolean)) {
      bases.push(port);
      port += 1;
    }
  }
  return [bases[0] as number, bases[1] as number];
}

interface Instance {
  readonly name: string;
  readonly ingress: string;
  readonly egress: string;
  child: CliChild;
  /** Sent to: false once killed or while frozen. */
  sendable: boolean;
}

test("three instances on one PostgreSQL: kill -9 one and freeze another past its lease mid-load; every acknowledged message applied once and in order, timers fire once, egress read once", {
  timeout: 180_000,
}, async (t: TestContext) => {
  const functions = await startFunctionServer(ledgerFunctions());
  t.after(() => functions.close());
  const database = await createTestDatabase("cluster_process", t);
  const [ingressBase, egressBase] = await freeBases();
  const file = writeModuleYaml(
    tempDir(t),
    [
      "kind: io.statefun.endpoints.v2/http",
      "spec:",
      "  functions: test/*",
      `  urlPathTemplate: ${functions.url}/{function.name}`,
      "  transport: { call: 10s }",
    ].join("\n"),
    `kind: io.statefun.playground.v1/ingress\nspec: { port: ${ingressBase} }`,
    `kind: io.statefun.playground.v1/egress\nspec: { port: ${egressBase}, topics: [applied] }`,
  );
  const start = (index: number): CliChild =>
    spawnCli(t, [
      "run",
      file,
      ...["--store", database.url, "--instance-id", `i${index}`, "--lease", `${LEASE_MS}ms`],
      ...["--port-offset", String(OFFSETS[index]), "--admin-port", "0"],
    ]);
  const instances: Instance[] = OFFSETS.map((offset, index) => ({
    name: `i${index}`,
    ingress: `http://127.0.0.1:${ingressBase + offset}`,
    egress: `http://127.0.0.1:${egressBase + offset}`,
    child: start(index),
    sendable: true,
  }));
  await Promise.all(instances.map((instance) => instance.child.waitFor(/switchboard is running/, "start")));

  // Each key's messages go one after another (the next after the previous one's answer),
  // round-robin over the instances that are up; the keys run concurrently.
  const acknowledged = new Map<number, number[]>();
  let acknowledgedCount = 0;
  let turn = 0;
  let nextFreshId = KEYS * PER_KEY * 10;
  const send = async (key: number, id: number): Promise<boolean> => {
    const up = instances.filter((instance) => instance.sendable);
    const instance = up[turn++ % up.length] as Instance;
    try {
      const response = await fetch(`${instance.ingress}/test/ledger/${key}`, {
        method: "POST",
        headers: { "content-type": "application/vnd.test/id" },
        body: String(id),
        signal: AbortSignal.timeout(3000),
      });
      await response.arrayBuffer();
      return response.status === 202;
    } catch {
      return false; // no answer: maybe stored, maybe not; never promised
    }
  };
  const load = Promise.all(
    Array.from({ length: KEYS }, async (_, key) => {
      const ids: number[] = [];
      acknowledged.set(key, ids);
      for (let n = 0; n < PER_KEY; n++) {
        // An unanswered message is sent again under a fresh id: the same id twice would
        // look like a double application when it is a client retry.
        let id = n * KEYS + key;
        for (let attempt = 0; attempt < 20 && !(await send(key, id)); attempt++) {
          id = nextFreshId++ * KEYS + key;
          await sleep(100);
        }
        ids.push(id);
        acknowledgedCount++;
      }
    }),
  );
  const total = KEYS * PER_KEY;
  const reached = async (fraction: number) => {
    for (let i = 0; i < 1200 && acknowledgedCount < total * fraction; i++) await sleep(25);
  };
  const [killed, frozen] = instances as [Instance, Instance, Instance];
  await reached(0.25);
  killed.sendable = false;
  killed.child.process.kill("SIGKILL");
  await reached(0.45);
  frozen.sendable = false;
  frozen.child.process.kill("SIGSTOP");
  await sleep(LEASE_MS + 2000);
  frozen.child.process.kill("SIGCONT");
  frozen.sendable = true;
  await load;
  assert.equal(acknowledgedCount, total, "every message was acknowledged in the end");

  const reader = new pg.Client({ connectionString: database.url });
  await reader.connect();
  reader.on("error", () => {}); // the database is dropped under it when the test ends
  t.after(() => reader.end());
  // One statement, one snapshot: a timer firing between two counts would move from one to the other.
  const pending = async () =>
    (
      await reader.query<{ messages: string; timers: string }>(
        "SELECT (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM timers) AS timers",
      )
    ).rows[0] as { messages: string; timers: string };
  // Quiet for a second: a request the frozen instance held while frozen (its client gave up
  // and sent the message again elsewhere) may still be stored when it resumes.
  for (let i = 0, quiet = 0; i < 600 && quiet < 10; i++) {
    const { messages, timers } = await pending();
    quiet = Number(messages) + Number(timers) === 0 ? quiet + 1 : 0;
    await sleep(100);
  }
  const left = await pending();
  if (left.messages !== "0" || left.timers !== "0") {
    const rows = await reader.query(
      "SELECT m.seq, m.partition, m.fn, m.id, p.owner, p.epoch FROM messages m JOIN partitions p USING (partition) ORDER BY m.seq",
    );
    const logs = instances.map((instance) => `${instance.name}:\n${instance.child.stderr()}`).join("\n");
    assert.fail(`left unconsumed: ${JSON.stringify(left)}\n${JSON.stringify(rows.rows)}\n${logs}`);
  }

  const ledgers = async (fn: string) => {
    const rows = await reader.query<{ id: string; value: Buffer }>(
      "SELECT id, value FROM state WHERE fn = $1 AND name = 'ids'",
      [fn],
    );
    return new Map(rows.rows.map((row) => [Number(row.id), readIds(row.value)]));
  };
  const applied = await ledgers("test/ledger");
  const everyApplied = [...applied.values()].flat();
  assert.equal(new Set(everyApplied).size, everyApplied.length, "no message was applied twice");
  for (const [key, ids] of acknowledged) {
    const ledger = applied.get(key) ?? [];
    const inLedger = new Set(ledger);
    assert.deepEqual(
      ids.filter((id) => !inLedger.has(id)),
      [],
      `key ${key}: every acknowledged message was applied`,
    );
    const acked = new Set(ids);
    assert.deepEqual(
      ledger.filter((id) => acked.has(id)),
      ids,
      `key ${key}: applied in acknowledgement order`,
    );
  }

  const firedIds = [...(await ledgers("test/fired")).values()].flat().sort((a, b) => a - b);
  const expectedTimers = everyApplied.filter((id) => id % TIMER_EVERY === 0).sort((a, b) => a - b);
  assert.deepEqual(firedIds, expectedTimers, "each delayed message fired exactly once");

  // Egress records are popped from the two live instances in turn, each exactly once.
  const live = instances.filter((instance) => instance !== killed);
  const popped: number[] = [];
  for (let i = 0; i < total * 3; i++) {
    const response = await fetch(`${(live[i % live.length] as Instance).egress}/applied`);
    const body = await response.text();
    if (response.status === 404) break;
    assert.equal(response.status, 200, body);
    popped.push(Number(body));
  }
  const appliedSet = new Set(everyApplied);
  const poppedTwice = popped.filter((id, index) => popped.indexOf(id) !== index);
  const notApplied = popped.filter((id) => !appliedSet.has(id));
  assert.deepEqual(
    { poppedTwice, notApplied },
    { poppedTwice: [], notApplied: [] },
    "egress only of applied messages, each once",
  );
  assert.equal(popped.length, everyApplied.length, "each egress record was read exactly once");

  for (const instance of live) instance.child.process.kill("SIGTERM");
  for (const instance of live) assert.equal(await instance.child.exitWithin(15_000), 0, instance.name);
  const frozenLog = frozen.child.stdout() + frozen.child.stderr();
  assert.match(
    frozenLog,
    /gave up \d+ partitions \((expired|taken)\)/,
    "the frozen instance saw its lease go",
  );
});
