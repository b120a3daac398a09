/**
 * What PostgreSQL spends on one benchmark database, read from a connection to the server's
 * maintenance database (so the monitor's own queries never count against the measured one):
 * transactions committed there (pg_stat_database), and the CPU of the server processes that
 * worked for it, from /proc: its backends (every pid pg_stat_activity shows on it, at the
 * start or the end of the window) and the shared processes (WAL writer, checkpointer,
 * background writer, autovacuum launcher: shared with every other database on the server).
 *
 * pg_stat_database lags: a busy backend publishes its counts at most once a second, and one
 * that has gone idle publishes what it still holds STATS_FLUSH_MS later (PostgreSQL 15's
 * PGSTAT_IDLE_INTERVAL is 10 s), or when it exits. Read it only after the database's
 * backends have been idle that long.
 */
import pg from "pg";
import { processCpuMs } from "./cpu-time.js";

export const STATS_FLUSH_MS = 11_000;

export interface PostgresCpu {
  /** % of one core over the window: the database's backends, and the shared processes. */
  readonly backends: number;
  readonly shared: number;
}

export class PostgresMonitor {
  private constructor(private readonly client: pg.Client) {}

  static async connect(serverUrl: string): Promise<PostgresMonitor> {
    const client = new pg.Client({ connectionString: serverUrl });
    client.on("error", () => {});
    await client.connect();
    return new PostgresMonitor(client);
  }

  async transactions(database: string): Promise<number> {
    const { rows } = await this.client.query<{ n: string }>(
      "SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1",
      [database],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Starts a CPU window; the function it returns closes it. */
  async cpuWindow(database: string): Promise<() => Promise<PostgresCpu>> {
    const started = Date.now();
    const before = await this.pids(database);
    const backendMs = new Map([...before.backends].map((pid) => [pid, processCpuMs(pid)]));
    const sharedMs = new Map([...before.shared].map((pid) => [pid, processCpuMs(pid)]));
    return async () => {
      const after = await this.pids(database);
      const elapsed = Math.max(1, Date.now() - started);
      // A backend that started within the window spent all its CPU in it; one that ended
      // within it is lost (its /proc entry is gone), which pools rarely do under load.
      const spent = (pids: Set<number>, startMs: Map<number, number>) => {
        let total = 0;
        for (const pid of new Set([...pids, ...startMs.keys()])) {
          const now = processCpuMs(pid);
          if (now > 0) total += now - (startMs.get(pid) ?? 0);
        }
        return (total / elapsed) * 100;
      };
      return { backends: spent(after.backends, backendMs), shared: spent(after.shared, sharedMs) };
    };
  }

  close(): Promise<void> {
    return this.client.end().catch(() => {});
  }

  private async pids(database: string): Promise<{ backends: Set<number>; shared: Set<number> }> {
    const { rows } = await this.client.query<{ pid: number; datname: string | null }>(
      "SELECT pid, datname FROM pg_stat_activity WHERE (datname = $1 OR datname IS NULL) AND pid <> pg_backend_pid()",
      [database],
    );
    return {
      backends: new Set(rows.filter((row) => row.datname === database).map((row) => row.pid)),
      shared: new Set(rows.filter((row) => row.datname === null).map((row) => row.pid)),
    };
  }
}
