/**
 * One throughput cell of cluster-throughput on a running cluster (or the SQLite node): closed-loop
 * load spread evenly over the instances' ingresses (one load generator per instance with its
 * share of the concurrency, all starting at the same moment), then a wait until the store holds
 * no message, polled every 10 ms. applied/s = messages acknowledged with a 202 / time from the
 * load's start until drained. Over the same window: CPU per process (/proc), the whole machine's
 * busy time, and the runtime's own counters (store commits, function calls); on PostgreSQL also
 * the database's committed transactions and its server processes' CPU.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { cpuPercentSince, cpuSnapshot, runQueueWaitMs } from "./cpu-time.js";
import { runLoadAt } from "./load.js";
import { type PostgresMonitor, STATS_FLUSH_MS } from "./postgres-monitor.js";
import type { LoadResult } from "./processes.js";
import { counterDelta, type RuntimeCounters, scrapeCounters, sumCounters } from "./runtime-metrics.js";
import type { RunningCluster } from "./switchboard-cluster.js";

/** Time the load generators get to start up (node + tsx) before the load is due. */
const START_LEAD_MS = 5000;
/** The runtime counters and transaction count are read this long before the load starts. */
const SNAPSHOT_LEAD_MS = 300;

export interface CellOptions {
  readonly keys: number;
  readonly concurrency: number;
  readonly durationMs: number;
  /** An unmeasured load first, drained, so both Node processes' hot paths are compiled. */
  readonly warmupMs: number;
  readonly functionPid: number | undefined;
  /** Given on PostgreSQL: transactions and server CPU are measured. */
  readonly monitor?: PostgresMonitor;
}

export interface CellResult {
  readonly acknowledged: number;
  readonly rejected: number;
  readonly errors: number;
  readonly windowMs: number;
  readonly drained: boolean;
  readonly appliedPerSecond: number;
  /** Ingress latency: p50 averaged over the generators (weighted by requests), the worst p99. */
  readonly p50: number;
  readonly p99: number;
  /** The latest any generator started after the agreed moment, ms. */
  readonly lateStartMs: number;
  /** % of one core. */
  readonly cpu: {
    readonly instances: number[];
    readonly function: number;
    readonly pgBackends?: number;
    readonly pgShared?: number;
    readonly machine: number;
  };
  /** % of the window each main thread (event loop) was ready to run but waiting for a core. */
  readonly waiting: { readonly instances: number[]; readonly function: number };
  readonly counters: RuntimeCounters;
  /** PostgreSQL transactions committed on the cell's database per acknowledged message. */
  readonly transactionsPerMessage?: number;
  /** PostgreSQL index scans per acknowledged message, per table (messages, state, partitions, ...). */
  readonly indexScansPerMessage?: ReadonlyMap<string, number>;
}

export async function measureCell(cluster: RunningCluster, options: CellOptions): Promise<CellResult> {
  if (options.warmupMs > 0) {
    await spreadLoad(cluster, options, options.warmupMs, Date.now() + START_LEAD_MS);
    await cluster.drained();
  }
  const { monitor } = options;
  const database = cluster.store.kind === "postgres" ? cluster.store.database.name : undefined;
  // The generators start up while the counts the warm-up's backends still hold get published
  // (PostgreSQL), which must happen before the window opens.
  const startAt = Date.now() + Math.max(START_LEAD_MS, monitor && database ? STATS_FLUSH_MS : 0);
  const loads = spreadLoad(cluster, options, options.durationMs, startAt);
  await sleep(Math.max(0, startAt - SNAPSHOT_LEAD_MS - Date.now()));
  const countersBefore = sumCounters(
    await Promise.all(cluster.members.map((m) => scrapeCounters(m.adminUrl))),
  );
  const transactionsBefore = monitor && database ? await monitor.transactions(database) : 0;
  const scansBefore = monitor && database ? await cluster.indexScans() : new Map<string, number>();
  const pollsBefore = cluster.polls;
  await sleep(Math.max(0, startAt - Date.now()));
  const pids: Record<string, number | undefined> = { function: options.functionPid };
  for (const member of cluster.members) pids[member.id] = member.cli.pid;
  const cpuBefore = cpuSnapshot(pids);
  const waitBefore = new Map(Object.entries(pids).map(([name, pid]) => [name, runQueueWaitMs(pid)]));
  const closePgWindow = monitor && database ? await monitor.cpuWindow(database) : undefined;
  const results = await loads;
  const drained = await cluster.drained();
  const windowMs = Date.now() - startAt;
  const cpu = cpuPercentSince(cpuBefore, pids);
  const waited = (name: string) =>
    ((runQueueWaitMs(pids[name]) - (waitBefore.get(name) ?? 0)) / Math.max(1, windowMs)) * 100;
  const pgCpu = await closePgWindow?.();
  const counters = counterDelta(
    sumCounters(await Promise.all(cluster.members.map((m) => scrapeCounters(m.adminUrl)))),
    countersBefore,
  );

  let transactionsPerMessage: number | undefined;
  let indexScansPerMessage: Map<string, number> | undefined;
  const acknowledged = sum(results.map((r) => r.ok));
  if (monitor && database) {
    const polls = cluster.polls - pollsBefore;
    await sleep(STATS_FLUSH_MS);
    const transactions = (await monitor.transactions(database)) - transactionsBefore - polls;
    transactionsPerMessage = transactions / Math.max(1, acknowledged);
    const scansAfter = await cluster.indexScans();
    indexScansPerMessage = new Map(
      [...scansAfter].map(([table, n]) => [
        table,
        (n - (scansBefore.get(table) ?? 0)) / Math.max(1, acknowledged),
      ]),
    );
  }
  return {
    acknowledged,
    rejected: sum(results.map((r) => r.rejected)),
    errors: sum(results.map((r) => r.errors)),
    windowMs,
    drained,
    appliedPerSecond: (acknowledged / windowMs) * 1000,
    p50: sum(results.map((r) => r.p50 * r.ok)) / Math.max(1, acknowledged),
    p99: Math.max(...results.map((r) => r.p99)),
    lateStartMs: Math.max(...results.map((r) => (r.startedAt ?? startAt) - startAt)),
    cpu: {
      instances: cluster.members.map((member) => cpu.processes[member.id] ?? 0),
      function: cpu.processes.function ?? 0,
      ...(pgCpu ? { pgBackends: pgCpu.backends, pgShared: pgCpu.shared } : {}),
      machine: cpu.machine,
    },
    waiting: {
      instances: cluster.members.map((member) => waited(member.id)),
      function: waited("function"),
    },
    counters,
    ...(transactionsPerMessage !== undefined ? { transactionsPerMessage } : {}),
    ...(indexScansPerMessage ? { indexScansPerMessage } : {}),
  };
}

/** One generator per instance, concurrency split evenly (the first ones take the remainder). */
function spreadLoad(
  cluster: RunningCluster,
  options: CellOptions,
  durationMs: number,
  startAt: number,
): Promise<LoadResult[]> {
  const n = cluster.members.length;
  return Promise.all(
    cluster.members.map((member, k) => {
      const share = Math.floor(options.concurrency / n) + (k < options.concurrency % n ? 1 : 0);
      return runLoadAt(startAt, `${member.ingressUrl}/bench/counter`, options.keys, share, durationMs);
    }),
  );
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
