/**
 * The PostgreSQL store backend (cluster mode) against the embedded SQLite store (the
 * baseline, durability "full"), on the two writes every message costs:
 *
 * - accept: an ingress message stored durably (PostgreSQL: accepts group-committed into one
 *   multi-row insert statement; SQLite: the store's group commit);
 * - apply: a result applied for the caller's own address: one state value written, one
 *   outgoing message, the consumed message deleted (PostgreSQL: fenced, group-committed, a
 *   group's results written by one statement; SQLite: the store's group commit).
 *
 * Both are driven through the store contract (StoreBackend: PostgresBackend, SqliteBackend).
 *
 * Closed loop: `c` callers, each awaiting one write at a time, for `durationMs` per cell; each
 * caller applies results for an address of its own, as dispatch never runs two batches of one
 * address at once. Both backends run in every cell, SQLite first. "tx" is the number of
 * transactions (PostgreSQL) or group commits (SQLite) the cell took. The PostgreSQL database
 * is created for the run and dropped at the end.
 *
 *   npm run bench -- store-backends [durationMs=3000] [concurrencies=1,16,64]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { Ownership } from "../packages/runtime/src/cluster/ownership.js";
import type { ResultWrite } from "../packages/runtime/src/store/contract.js";
import { PostgresBackend } from "../packages/runtime/src/store/postgres/postgres-backend.js";
import { PostgresStore } from "../packages/runtime/src/store/postgres/postgres-store.js";
import type { AddressRef, NewMessage, ResultPlan, StateSpec } from "../packages/runtime/src/store/records.js";
import { ExpireMode } from "../packages/runtime/src/store/records.js";
import { SqliteBackend } from "../packages/runtime/src/store/sqlite-backend.js";
import { Store } from "../packages/runtime/src/store/store.js";

const durationMs = Number(process.argv[2] ?? 3000);
const concurrencies = (process.argv[3] ?? "1,16,64").split(",").map(Number);
const serverUrl = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const database = `switchboard_bench_${process.pid}_${randomBytes(3).toString("hex")}`;
const databaseUrl = serverUrl.replace(/\/[^/]*$/, `/${database}`);

const COUNT: StateSpec = { name: "count", typename: "t/int", expireMode: ExpireMode.NONE, expireAfterMs: 0 };
const payload = randomBytes(100);
const address = (n: number): AddressRef => ({ fn: "bench/counter", id: `k${n}` });
const message = (target: AddressRef, caller?: AddressRef): NewMessage => ({
  target,
  ...(caller ? { caller } : {}),
  argument: { typename: "t/x", hasValue: true, value: payload },
});
const plan = (self: AddressRef, n: number): ResultPlan => ({
  outgoing: [message(address(n + 100_000), self)],
  delayed: [],
  egress: [],
  mutations: [{ kind: "modify", spec: COUNT, value: randomBytes(8) }],
});

/** A result for the caller's own address that consumes one of its messages. */
const resultWrite = (caller: number, consumed: number): ResultWrite => ({
  address: address(caller),
  plan: plan(address(caller), caller),
  consumed: consumed ? [consumed] : [],
  specs: [COUNT],
  clearSuspension: false,
  now: Date.now(),
});

/** What one backend does per operation; `caller` is the closed-loop caller's index. */
interface Subject {
  readonly name: string;
  accept(caller: number): Promise<number>;
  apply(caller: number, consumed: number): Promise<unknown>;
  transactions(): number;
}

interface Cell {
  readonly count: number;
  readonly ops: number;
  readonly tx: number;
  readonly p50: number;
  readonly p99: number;
}

async function closedLoop(
  subject: Subject,
  concurrency: number,
  op: (caller: number) => Promise<unknown>,
): Promise<Cell> {
  const latencies: number[] = [];
  const txBefore = subject.transactions();
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, caller) => {
      while (performance.now() < deadline) {
        const begun = performance.now();
        await op(caller);
        latencies.push(performance.now() - begun);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    count: latencies.length,
    ops: latencies.length / seconds,
    tx: subject.transactions() - txBefore,
    p50: at(0.5),
    p99: at(0.99),
  };
}

/** accept, then apply results that each consume one message the caller accepted. */
async function measure(subject: Subject, concurrency: number): Promise<{ accept: Cell; apply: Cell }> {
  const backlog: number[][] = Array.from({ length: concurrency }, () => []);
  const accept = await closedLoop(subject, concurrency, async (caller) => {
    (backlog[caller] as number[]).push(await subject.accept(caller));
  });
  const apply = await closedLoop(subject, concurrency, (caller) =>
    subject.apply(caller, (backlog[caller] as number[]).shift() ?? 0),
  );
  return { accept, apply };
}

function sqliteSubject(dataDir: string): Subject & { close(): Promise<void> } {
  const store = Store.open(dataDir, "full");
  const backend = new SqliteBackend(store);
  return {
    name: "sqlite",
    accept: async (caller) => (await backend.messages.accept(message(address(caller)), Date.now())).seq,
    apply: (caller, consumed) => backend.applyResult(resultWrite(caller, consumed)),
    transactions: () => store.commits.stats().commits,
    close: () => backend.close(),
  };
}

async function postgresSubject(): Promise<Subject & { close(): Promise<void> }> {
  const store = await PostgresStore.open({ url: databaseUrl, maxConnections: 16 });
  const owner = await Ownership.start({
    pool: store.pool,
    partitionCount: store.partitionCount,
    manualTicks: true,
  });
  const backend = new PostgresBackend(store, owner);
  return {
    name: "postgres",
    accept: async (caller) => (await backend.messages.accept(message(address(caller)), Date.now())).seq,
    apply: (caller, consumed) => backend.applyResult(resultWrite(caller, consumed)),
    transactions: () => backend.messages.accepts.stats().groups + backend.results.commits.stats().groups,
    close: async () => {
      await owner.stop();
      await backend.close();
    },
  };
}

async function onServer(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

const dataDir = mkdtempSync(join(tmpdir(), "sb-bench-store-"));
await onServer(`CREATE DATABASE ${database}`);
const rows: string[] = [];
try {
  const sqlite = sqliteSubject(dataDir);
  const postgres = await postgresSubject();
  try {
    for (const concurrency of concurrencies) {
      const base = await measure(sqlite, concurrency);
      const cluster = await measure(postgres, concurrency);
      for (const kind of ["accept", "apply"] as const) {
        const s = base[kind];
        const p = cluster[kind];
        rows.push(
          `| ${kind} | ${concurrency} | ${s.ops.toFixed(0)} | ${p.ops.toFixed(0)} | ${(p.ops / s.ops).toFixed(2)} | ${s.p50.toFixed(1)} / ${s.p99.toFixed(1)} | ${p.p50.toFixed(1)} / ${p.p99.toFixed(1)} | ${(p.count / Math.max(1, p.tx)).toFixed(1)} |`,
        );
        console.log(rows.at(-1));
      }
    }
  } finally {
    await sqlite.close();
    await postgres.close();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
  await onServer(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
}
console.log(
  `\nstore-backends: ${durationMs} ms per cell, Node ${process.version}\n\n| write | c | sqlite ops/s | postgres ops/s | postgres / sqlite | sqlite p50 / p99 ms | postgres p50 / p99 ms | postgres ops per tx |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n${rows.join("\n")}`,
);
