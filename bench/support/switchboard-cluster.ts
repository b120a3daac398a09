/**
 * Switchboard as an operator runs it, for the cluster benchmarks: `switchboard run` child
 * processes on one module, either one node on the embedded SQLite store (`--data-dir`) or N
 * instances sharing one PostgreSQL database (`--store`, `--instance-id`, `--port-offset`). The
 * module's ingress and the admin server get fixed base ports; instance k listens on base + k *
 * PORT_STEP. `pending()` counts messages accepted and not yet applied, straight from the store
 * (a read-only SQLite handle; a PostgreSQL connection of its own).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { openSqlite, type SqliteDatabase } from "../../packages/runtime/src/store/sqlite-driver.js";
import type { BenchDatabase } from "./bench-database.js";
import { type CliInstance, startCliInstance } from "./cli-instance.js";
import { freeBases } from "./free-ports.js";

export const PORT_STEP = 100;
const PARTITIONS = 128;

export type ClusterStore =
  | { readonly kind: "sqlite"; readonly dataDir: string }
  | { readonly kind: "postgres"; readonly database: BenchDatabase; readonly leaseMs?: number };

export interface ClusterMember {
  readonly id: string;
  readonly cli: CliInstance;
  readonly ingressUrl: string;
  readonly adminUrl: string;
}

export interface RunningCluster {
  readonly store: ClusterStore;
  readonly members: ClusterMember[];
  /** Messages accepted and not yet applied (every row of `messages`). */
  pending(): Promise<number>;
  /** Waits until pending() is 0, polling every `everyMs`; false when `timeoutMs` passed first. */
  drained(timeoutMs?: number, everyMs?: number): Promise<boolean>;
  /** Queries pending() ran on the PostgreSQL database (each one transaction there). */
  readonly polls: number;
  /** Owner per partition (PostgreSQL only). */
  owners(): Promise<Map<number, string | null>>;
  /**
   * Index scans per table since the database was created (PostgreSQL only; pg_stat_user_tables,
   * which lags like pg_stat_database: see postgres-monitor.ts).
   */
  indexScans(): Promise<Map<string, number>>;
  /** Stops every instance still running (SIGTERM, SIGKILL after a grace) and closes the store handles. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  readonly store: ClusterStore;
  readonly instances: number;
  /** The function endpoint's base URL (the SDK counter server). */
  readonly functionUrl: string;
  /** Where the module YAML goes. */
  readonly dir: string;
  /** Instance ids get this prefix (unique per cluster: a killed instance's id stays in `members` for a lease). */
  readonly idPrefix?: string;
}

export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  const offsets = Array.from({ length: options.instances }, (_, k) => k * PORT_STEP);
  const [ingressBase, adminBase] = (await freeBases(2, offsets)) as [number, number];
  const moduleFile = join(options.dir, `module-${ingressBase}.yaml`);
  writeFileSync(moduleFile, moduleYaml(options.functionUrl, ingressBase));
  const { store } = options;
  const prefix = options.idPrefix ?? "i";
  const members: ClusterMember[] = offsets.map((offset, k) => {
    const id = `${prefix}${k}`;
    const storeArgs =
      store.kind === "sqlite"
        ? ["--data-dir", store.dataDir]
        : [
            ...["--store", store.database.url, "--instance-id", id],
            ...(store.leaseMs ? ["--lease", `${store.leaseMs}ms`] : []),
          ];
    const cli = startCliInstance(id, [
      "run",
      moduleFile,
      ...storeArgs,
      ...["--port-offset", String(offset), "--admin-port", String(adminBase)],
    ]);
    return {
      id,
      cli,
      ingressUrl: `http://127.0.0.1:${ingressBase + offset}`,
      adminUrl: `http://127.0.0.1:${adminBase + offset}`,
    };
  });
  let client: pg.Client | undefined;
  let sqlite: SqliteDatabase | undefined;
  const stop = async () => {
    await Promise.all(members.map((member) => member.cli.stop()));
    sqlite?.close();
    await client?.end().catch(() => {});
  };
  try {
    await Promise.all(members.map((member) => member.cli.running()));
    if (store.kind === "postgres") {
      client = new pg.Client({ connectionString: store.database.url });
      client.on("error", () => {}); // the database may be dropped under it on an interrupt
      await client.connect();
      // The polls' scans must not show up as the runtime's index scans (indexScans()).
      await client.query(
        "SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off",
      );
      await evenlyOwned(client, members, store.leaseMs ?? 10_000);
    } else {
      sqlite = openSqlite(join(store.dataDir, "switchboard.db"), { readonly: true, fileMustExist: true });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const countStatement = sqlite?.prepare<[], { n: number }>("SELECT count(*) AS n FROM messages");
  let polls = 0;
  const pending = async (): Promise<number> => {
    if (countStatement) return countStatement.get()?.n ?? 0;
    polls++;
    const { rows } = await (client as pg.Client).query<{ n: number }>(
      "SELECT count(*)::integer AS n FROM messages",
    );
    return rows[0]?.n ?? 0;
  };
  return {
    store,
    members,
    pending,
    async drained(timeoutMs = 120_000, everyMs = 10) {
      const deadline = Date.now() + timeoutMs;
      while ((await pending()) > 0) {
        if (Date.now() > deadline) return false;
        await sleep(everyMs);
      }
      return true;
    },
    get polls() {
      return polls;
    },
    async owners() {
      if (!client) return new Map();
      polls++;
      const { rows } = await client.query<{ partition: number; owner: string | null }>(
        "SELECT partition, owner FROM partitions",
      );
      return new Map(rows.map((row) => [row.partition, row.owner]));
    },
    async indexScans() {
      if (!client) return new Map();
      polls++;
      const { rows } = await client.query<{ relname: string; n: string | null }>(
        "SELECT relname, idx_scan AS n FROM pg_stat_user_tables",
      );
      return new Map(rows.map((row) => [row.relname, Number(row.n ?? 0)]));
    },
    stop,
  };
}

/** Until every partition is owned and each instance holds its fair share (floor or ceil of P / N). */
async function evenlyOwned(
  client: pg.Client,
  members: readonly ClusterMember[],
  leaseMs: number,
): Promise<void> {
  const ids = new Set(members.map((member) => member.id));
  const low = Math.floor(PARTITIONS / members.length);
  const deadline = Date.now() + 4 * leaseMs + 30_000;
  for (;;) {
    const { rows } = await client.query<{ owner: string | null; n: number }>(
      "SELECT owner, count(*)::integer AS n FROM partitions GROUP BY owner",
    );
    const held = new Map(rows.map((row) => [row.owner, row.n]));
    const even =
      [...ids].every((id) => (held.get(id) ?? 0) >= low && (held.get(id) ?? 0) <= low + 1) &&
      [...held.keys()].every((owner) => owner !== null && ids.has(owner));
    if (even) return;
    if (Date.now() > deadline) throw new Error(`partitions never spread evenly: ${JSON.stringify(rows)}`);
    await sleep(50);
  }
}

function moduleYaml(functionUrl: string, ingressPort: number): string {
  return [
    "kind: io.statefun.endpoints.v2/http",
    "spec:",
    "  functions: bench/*",
    `  urlPathTemplate: ${functionUrl}/{function.name}`,
    "  transport:",
    "    type: io.statefun.transports.v1/async",
    "---",
    "kind: io.statefun.playground.v1/ingress",
    `spec: { port: ${ingressPort} }`,
    "",
  ].join("\n");
}
