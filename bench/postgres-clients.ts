/**
 * Which PostgreSQL client the cluster store should use: `pg` (node-postgres, the baseline)
 * against `postgres` (postgres.js), each used the way its documentation recommends, on the
 * store's two hot transactions:
 *
 * - group commit: one transaction inserting `batch` messages with one multi-row
 *   `INSERT ... SELECT FROM unnest($1::int[], ...)`;
 * - fenced apply: one transaction that checks the partition's epoch (`FOR SHARE`), deletes the
 *   consumed message, inserts two outgoing messages, and upserts one state value.
 *
 * Closed loop: `concurrency` callers, each awaiting one transaction at a time, on a pool of
 * min(concurrency, 16) connections per client. "CPU us/tx" is this process's CPU per
 * transaction (the client's own cost; the server's is the same SQL for both). Both clients
 * run in every round, alternating which goes first. The benchmark creates its own database
 * and drops it at the end.
 *
 *   npm run bench -- postgres-clients [durationMs=3000] [batch=64] [rounds=2] [concurrencies=1,8,32]
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import postgres from "postgres";

const durationMs = Number(process.argv[2] ?? 3000);
const batch = Number(process.argv[3] ?? 64);
const rounds = Number(process.argv[4] ?? 2);
const concurrencies = (process.argv[5] ?? "1,8,32").split(",").map(Number);
const serverUrl = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const database = `switchboard_bench_${process.pid}_${randomBytes(3).toString("hex")}`;
const databaseUrl = serverUrl.replace(/\/[^/]*$/, `/${database}`);
const PARTITIONS = 128;
const payload = randomBytes(100);

const SCHEMA = `
CREATE TABLE partitions (partition int PRIMARY KEY, owner text NOT NULL, epoch bigint NOT NULL);
CREATE TABLE messages (
  seq bigserial PRIMARY KEY, partition int NOT NULL, fn text NOT NULL, id text NOT NULL,
  typename text NOT NULL, value bytea, accepted_at bigint NOT NULL);
CREATE INDEX messages_by_address ON messages (partition, fn, id, seq);
CREATE TABLE state (
  partition int NOT NULL, fn text NOT NULL, id text NOT NULL, name text NOT NULL, value bytea NOT NULL,
  PRIMARY KEY (partition, fn, id, name));
INSERT INTO partitions SELECT p, 'bench', 1 FROM generate_series(0, ${PARTITIONS - 1}) p;
`;

const INSERT_MESSAGES = `INSERT INTO messages (partition, fn, id, typename, value, accepted_at)
  SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::bigint[])`;
const CHECK_EPOCH = "SELECT epoch FROM partitions WHERE partition = $1 FOR SHARE";
const DELETE_CONSUMED = "DELETE FROM messages WHERE partition = $1 AND seq = ANY($2::bigint[])";
const UPSERT_STATE = `INSERT INTO state (partition, fn, id, name, value) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (partition, fn, id, name) DO UPDATE SET value = excluded.value`;

type Params = unknown[];

/** The two transactions, written once per client. */
interface Client {
  readonly name: string;
  groupCommit(rows: readonly Params[]): Promise<void>;
  fencedApply(partition: number, consumed: bigint, outgoing: readonly Params[], key: string): Promise<void>;
  close(): Promise<void>;
}

function columns(rows: readonly Params[]): Params {
  return Array.from({ length: 6 }, (_, column) => rows.map((row) => row[column]));
}

function nodePostgres(poolSize: number): Client {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  // An idle connection ended by the server (the final DROP ... FORCE) is not a failure here.
  pool.on("error", () => {});
  const inTransaction = async (work: (client: pg.PoolClient) => Promise<void>) => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await work(client);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK");
      throw error;
    } finally {
      client.release();
    }
  };
  return {
    name: "pg",
    groupCommit: (rows) =>
      inTransaction(async (client) => {
        await client.query({ name: "insert", text: INSERT_MESSAGES, values: columns(rows) });
      }),
    fencedApply: (partition, consumed, outgoing, key) =>
      inTransaction(async (client) => {
        const { rows } = await client.query({ name: "check", text: CHECK_EPOCH, values: [partition] });
        if (rows[0]?.epoch !== "1") throw new Error("ownership lost");
        await client.query({ name: "delete", text: DELETE_CONSUMED, values: [partition, [consumed]] });
        await client.query({ name: "insert", text: INSERT_MESSAGES, values: columns(outgoing) });
        await client.query({
          name: "upsert",
          text: UPSERT_STATE,
          values: [partition, "bench/f", key, "n", payload],
        });
      }),
    close: () => pool.end(),
  };
}

function postgresJs(poolSize: number): Client {
  const sql = postgres(databaseUrl, { max: poolSize, onnotice: () => {} });
  // postgres.js types a bare array by its first element (a Buffer[] would go as bytea):
  // sql.array sends each column as the array type instead.
  const arrays = (rows: readonly Params[]) => columns(rows).map((column) => sql.array(column as never));
  return {
    name: "postgres.js",
    groupCommit: async (rows) => {
      await sql.begin((tx) => tx.unsafe(INSERT_MESSAGES, arrays(rows), { prepare: true }));
    },
    fencedApply: async (partition, consumed, outgoing, key) => {
      await sql.begin(async (tx) => {
        const rows = await tx.unsafe(CHECK_EPOCH, [partition], { prepare: true });
        if (String(rows[0]?.epoch) !== "1") throw new Error("ownership lost");
        // The rest does not depend on each other's answers: postgres.js pipelines an array.
        return Promise.all([
          tx.unsafe(DELETE_CONSUMED, [partition, sql.array([consumed] as never)], { prepare: true }),
          tx.unsafe(INSERT_MESSAGES, arrays(outgoing), { prepare: true }),
          tx.unsafe(UPSERT_STATE, [partition, "bench/f", key, "n", payload], { prepare: true }),
        ]);
      });
    },
    close: () => sql.end(),
  };
}

interface Result {
  readonly txPerSecond: number;
  readonly cpuMicrosPerTx: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

async function measure(
  ms: number,
  concurrency: number,
  transaction: (worker: number, i: number) => Promise<void>,
): Promise<Result> {
  const latencies: number[] = [];
  const deadline = performance.now() + ms;
  let count = 0;
  const loop = async (worker: number) => {
    for (let i = 0; performance.now() < deadline; i++) {
      const started = performance.now();
      await transaction(worker, i);
      latencies.push(performance.now() - started);
      count++;
    }
  };
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, (_, worker) => loop(worker)));
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0;
  return {
    txPerSecond: (count / elapsed) * 1000,
    cpuMicrosPerTx: (used.user + used.system) / count,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

function messageRows(worker: number, i: number, count: number): Params[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, k) => {
    const key = `k${(worker * 7919 + i * count + k) % 1000}`;
    return [(worker * 31 + k) % PARTITIONS, "bench/f", key, "bench/t", payload, now];
  });
}

async function scenario(
  label: string,
  concurrency: number,
  make: (poolSize: number) => Client,
  run: (client: Client, worker: number, i: number) => Promise<void>,
): Promise<Result> {
  const client = make(Math.min(concurrency, 16));
  try {
    // A short warm-up so both clients are measured with prepared statements and a full pool.
    await measureFor(200, concurrency, client, run);
    return await measureFor(durationMs, concurrency, client, run);
  } catch (error) {
    throw new Error(`${label} with ${client.name} failed: ${String(error)}`);
  } finally {
    await client.close();
  }
}

function measureFor(
  ms: number,
  concurrency: number,
  client: Client,
  run: (client: Client, worker: number, i: number) => Promise<void>,
): Promise<Result> {
  return measure(ms, concurrency, (worker, i) => run(client, worker, i));
}

async function withDatabase(work: () => Promise<void>): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  try {
    const setup = new pg.Client({ connectionString: databaseUrl });
    await setup.connect();
    await setup.query(SCHEMA);
    await setup.end();
    await work();
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

const scenarios = {
  "group commit": async (client: Client, worker: number, i: number) =>
    client.groupCommit(messageRows(worker, i, batch)),
  "fenced apply": async (client: Client, worker: number, i: number) => {
    const partition = (worker * 31 + i) % PARTITIONS;
    await client.fencedApply(partition, BigInt(i + 1), messageRows(worker, i, 2), `k${worker}`);
  },
} as const;

await withDatabase(async () => {
  console.log(
    `postgres-clients: ${durationMs} ms per cell, batch ${batch}, ${rounds} rounds, node ${process.version}, ${database}`,
  );
  console.log(
    "| scenario | c | round | pg tx/s | postgres.js tx/s | postgres.js / pg | pg CPU us/tx | postgres.js CPU us/tx | pg p50 / p99 ms | postgres.js p50 / p99 ms |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const [label, run] of Object.entries(scenarios)) {
    for (const concurrency of concurrencies) {
      for (let round = 1; round <= rounds; round++) {
        const order = round % 2 === 1 ? [nodePostgres, postgresJs] : [postgresJs, nodePostgres];
        const results = new Map<Client["name"], Result>();
        for (const make of order) {
          const name = make === nodePostgres ? "pg" : "postgres.js";
          results.set(name, await scenario(label, concurrency, make, run));
        }
        const a = results.get("pg") as Result;
        const b = results.get("postgres.js") as Result;
        const f = (n: number) => n.toFixed(1);
        console.log(
          `| ${label} | ${concurrency} | ${round} | ${a.txPerSecond.toFixed(0)} | ${b.txPerSecond.toFixed(0)} | ${(b.txPerSecond / a.txPerSecond).toFixed(2)} | ${f(a.cpuMicrosPerTx)} | ${f(b.cpuMicrosPerTx)} | ${f(a.p50Ms)} / ${f(a.p99Ms)} | ${f(b.p50Ms)} / ${f(b.p99Ms)} |`,
        );
      }
    }
  }
});
