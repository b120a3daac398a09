/**
 * A PostgreSQL database of a benchmark's own, created for one run (or one cell) and dropped
 * afterwards, also when the benchmark is interrupted (child-reaper's cleanups). The server is
 * $BENCH_POSTGRES_URL, else the local one the tests use.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { cleanUpOnInterrupt } from "./child-reaper.js";

export const POSTGRES_SERVER_URL =
  process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface BenchDatabase {
  readonly name: string;
  readonly url: string;
  /** Drops it (FORCE: connections still open are ended). Idempotent. */
  drop(): Promise<void>;
}

export async function createBenchDatabase(label: string): Promise<BenchDatabase> {
  const name = `switchboard_bench_${label}_${process.pid}_${randomBytes(3).toString("hex")}`;
  await onServer(`CREATE DATABASE ${name}`);
  let dropping: Promise<void> | undefined;
  const drop = (): Promise<void> => {
    dropping ??= onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(unregister);
    return dropping;
  };
  const unregister = cleanUpOnInterrupt(drop);
  return { name, url: POSTGRES_SERVER_URL.replace(/\/[^/]*$/, `/${name}`), drop };
}

async function onServer(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_SERVER_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
