/**
 * Cluster mode against the single node, all in one run: the embedded SQLite node (`switchboard
 * run --data-dir`), then the PostgreSQL-backed runtime (`switchboard run --store postgres://`)
 * with 1, 2 and 3 instances, every one a child process measured the same way. Scenarios: 1000
 * random keys and one hot key, at one concurrency spread evenly over the instances' ingresses.
 * The function is the SDK counter in its own process (bench/support/sdk-counter-server.ts),
 * shared by all instances. Each PostgreSQL cluster runs on a database of its own, dropped
 * afterwards. Then the failover cell: two instances, kill -9 of one under a trickle, the time
 * until the first message of a moved partition is applied (bench/support/failover-round.ts).
 *
 * Goals (issue 16): one PostgreSQL-backed instance >= 0.5 of the SQLite node; 2 and 3 instances
 * never slower than 1 on this 2-core machine; failover <= lease + 2 s.
 *
 *   npm run bench -- cluster-throughput [durationMs=5000] [concurrency=64] [warmupMs=1000] [failoverRounds=3] [failoverLeaseMs=3000]
 *
 * durationMs 0 runs the failover rounds only (e.g. `cluster-throughput 0 64 0 3 10000`: the default lease).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createBenchDatabase, POSTGRES_SERVER_URL } from "./support/bench-database.js";
import { cleanUpOnInterrupt } from "./support/child-reaper.js";
import { type CellResult, measureCell } from "./support/cluster-cell.js";
import { type FailoverResult, failoverRound } from "./support/failover-round.js";
import { loadGenerator } from "./support/load.js";
import { PostgresMonitor } from "./support/postgres-monitor.js";
import { startServerProcess, stopProcess } from "./support/processes.js";
import { type ClusterStore, startCluster } from "./support/switchboard-cluster.js";

const durationMs = Number(process.argv[2] ?? 5000);
const concurrency = Number(process.argv[3] ?? 64);
const warmupMs = Number(process.argv[4] ?? 1000);
const failoverRounds = Number(process.argv[5] ?? 3);
const failoverLeaseMs = Number(process.argv[6] ?? 3000);
const FAILOVER_RATE = 200;
const FAILOVER_KEYS = 1000;

const scenarios = [
  { name: "1000 random keys", keys: 1000 },
  { name: "one hot key", keys: 1 },
] as const;
interface Setup {
  readonly label: string;
  readonly instances: number;
  readonly postgres: boolean;
}
const SQLITE: Setup = { label: "SQLite node", instances: 1, postgres: false };
const ONE_PG: Setup = { label: "PostgreSQL", instances: 1, postgres: true };
const setups: readonly Setup[] = [
  SQLITE,
  ONE_PG,
  { label: "PostgreSQL", instances: 2, postgres: true },
  { label: "PostgreSQL", instances: 3, postgres: true },
];

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || !Number.isFinite(n) ? "-" : n.toFixed(digits);
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(", ");
const note = (line: string) => process.stderr.write(`${line}\n`);

const dir = mkdtempSync(join(tmpdir(), "sb-bench-cluster-"));
const removeDir = async () => rmSync(dir, { recursive: true, force: true });
const unregisterDir = cleanUpOnInterrupt(removeDir);
const startedAt = new Date();
const loadAtStart = load();
const results = new Map<string, CellResult>();
const key = (setup: Setup, scenario: string) =>
  `${setup.postgres ? "pg" : "sqlite"}-${setup.instances}-${scenario}`;

const fn = await startServerProcess("sdk-counter-server.ts");
const functionUrl = `http://127.0.0.1:${fn.port}`;
const monitor = await PostgresMonitor.connect(POSTGRES_SERVER_URL);
try {
  if (durationMs > 0) {
    for (const setup of setups) await measureSetup(setup);
    printThroughput();
  }
  const failovers: (FailoverResult | Error)[] = [];
  for (let round = 1; round <= failoverRounds; round++) {
    const result = await failoverRound({
      round,
      leaseMs: failoverLeaseMs,
      rate: FAILOVER_RATE,
      keys: FAILOVER_KEYS,
      functionUrl,
      dir,
    }).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    failovers.push(result);
    note(`failover round ${round}: ${result instanceof Error ? result.message : JSON.stringify(result)}`);
  }
  printFailovers(failovers);
  console.log(`
load average at the end: ${load()}`);
} finally {
  await monitor.close();
  await stopProcess(fn.child);
  await removeDir();
  unregisterDir();
}

/** One store setup (the SQLite node, or N PostgreSQL instances on a database of their own), every scenario. */
async function measureSetup(setup: Setup): Promise<void> {
  const database = setup.postgres ? await createBenchDatabase(`cluster${setup.instances}`) : undefined;
  try {
    const store: ClusterStore = database
      ? { kind: "postgres", database }
      : { kind: "sqlite", dataDir: join(dir, "sqlite-node") };
    const cluster = await startCluster({ store, instances: setup.instances, functionUrl, dir });
    try {
      for (const scenario of scenarios) {
        const result = await measureCell(cluster, {
          keys: scenario.keys,
          concurrency,
          durationMs,
          warmupMs,
          functionPid: fn.child.pid,
          ...(database ? { monitor } : {}),
        });
        results.set(key(setup, scenario.name), result);
        note(
          `${setup.label} x${setup.instances}, ${scenario.name}: ${fmt(result.appliedPerSecond)} applied/s ` +
            `(${result.acknowledged} acknowledged, ${result.rejected} refused, ${result.errors} errors, ` +
            `window ${result.windowMs} ms, drained ${result.drained}, generators late by ${result.lateStartMs} ms, ` +
            `runtime applied ${result.counters.applied}; load ${load()})`,
        );
      }
    } catch (error) {
      for (const member of cluster.members) note(`--- ${member.id}:\n${member.cli.output()}`);
      throw error;
    } finally {
      await cluster.stop();
    }
  } finally {
    await database?.drop();
  }
}

function printThroughput(): void {
  console.log(
    `cluster-throughput: ${durationMs} ms per cell after a ${warmupMs} ms warm-up, c=${concurrency} spread over the instances, ` +
      `load from ${loadGenerator()} (one generator per instance), node ${process.version}, ` +
      `started ${startedAt.toISOString()}, load average ${loadAtStart} at the start and ${load()} after the throughput cells`,
  );
  const columns = [
    "scenario",
    "store",
    "instances",
    "applied/s",
    "vs SQLite",
    "vs 1 PG",
    "ingress p50 / p99 ms",
    "CPU % instances",
    "waiting for a core %: instances, function",
    "CPU % function",
    "CPU % PG backends + shared",
    "CPU % rest",
    "machine busy %",
    "CPU ms / msg: instances, function, PG",
    "PG xact / msg",
    "store commits / msg",
    "calls / msg",
  ];
  console.log(`\n| ${columns.join(" | ")} |`);
  console.log(`|${" --- |".repeat(columns.length)}`);
  for (const scenario of scenarios) {
    const sqlite = results.get(key(SQLITE, scenario.name));
    const onePg = results.get(key(ONE_PG, scenario.name));
    for (const setup of setups) {
      const r = results.get(key(setup, scenario.name));
      if (!r) continue;
      const { cpu, counters } = r;
      const pgCpu = (cpu.pgBackends ?? 0) + (cpu.pgShared ?? 0);
      const instances = cpu.instances.reduce((a, b) => a + b, 0);
      const measured = instances + cpu.function + pgCpu;
      // % of a core over the window -> CPU ms per acknowledged message.
      const perMessage = (percent: number) => (percent / 100) * (r.windowMs / Math.max(1, r.acknowledged));
      const pg = cpu.pgBackends === undefined ? "-" : `${fmt(cpu.pgBackends)} + ${fmt(cpu.pgShared)}`;
      console.log(
        `| ${scenario.name} | ${setup.label} | ${setup.instances} | ${fmt(r.appliedPerSecond)} | ` +
          `${fmt(r.appliedPerSecond / (sqlite?.appliedPerSecond ?? Number.NaN), 2)} | ` +
          `${setup.postgres ? fmt(r.appliedPerSecond / (onePg?.appliedPerSecond ?? Number.NaN), 2) : "-"} | ` +
          `${fmt(r.p50, 1)} / ${fmt(r.p99, 1)} | ${cpu.instances.map((c) => fmt(c)).join(" / ")} | ` +
          `${r.waiting.instances.map((w) => fmt(w)).join(" / ")}, ${fmt(r.waiting.function)} | ${fmt(cpu.function)} | ` +
          `${pg} | ${fmt(cpu.machine - measured)} | ${fmt(cpu.machine)} | ` +
          `${fmt(perMessage(instances), 3)}, ${fmt(perMessage(cpu.function), 3)}, ${setup.postgres ? fmt(perMessage(pgCpu), 3) : "-"} | ` +
          `${fmt(r.transactionsPerMessage, 2)} | ` +
          `${fmt(counters.commits / Math.max(1, r.acknowledged), 3)} | ${fmt(counters.calls / Math.max(1, r.acknowledged), 3)} |`,
      );
    }
  }
  console.log(
    "\nPostgreSQL index scans per message, by table (pg_stat_user_tables; the bench's own polls scan sequentially and are not in it):\n",
  );
  for (const scenario of scenarios) {
    for (const setup of setups) {
      const scans = results.get(key(setup, scenario.name))?.indexScansPerMessage;
      if (!scans) continue;
      const shown = [...scans]
        .filter(([, n]) => n >= 0.005)
        .sort((a, b) => b[1] - a[1])
        .map(([table, n]) => `${table} ${fmt(n, 2)}`);
      console.log(`- ${scenario.name}, ${setup.instances} instance(s): ${shown.join(", ") || "none"}`);
    }
  }
  console.log("");
  for (const scenario of scenarios) {
    const applied = (setup: Setup) => results.get(key(setup, scenario.name))?.appliedPerSecond ?? Number.NaN;
    const vsSqlite = applied(ONE_PG) / applied(SQLITE);
    const two = applied(setups[2] as Setup) / applied(ONE_PG);
    const three = applied(setups[3] as Setup) / applied(ONE_PG);
    console.log(
      `- ${scenario.name}: 1 PostgreSQL instance / SQLite node = ${fmt(vsSqlite, 2)} (goal >= 0.5: ${vsSqlite >= 0.5 ? "met" : "NOT met"}); ` +
        `2 / 1 instances = ${fmt(two, 2)}, 3 / 1 = ${fmt(three, 2)} (goal >= 1: ${two >= 1 && three >= 1 ? "met" : "NOT met"})`,
    );
  }
}

function printFailovers(failovers: readonly (FailoverResult | Error)[]): void {
  if (failovers.length === 0) return;
  const goal = failoverLeaseMs + 2000;
  console.log(
    `\nFailover: 2 instances, lease ${failoverLeaseMs} ms (heartbeat a third of it), a trickle of up to ${FAILOVER_RATE} msg/s over ` +
      `${FAILOVER_KEYS} keys into the survivor, kill -9 at a random point of the heartbeat cycle, then one probe message per moved ` +
      `partition; goal: kill -> first applied message of a moved partition <= ${goal} ms\n`,
  );
  console.log(
    "| round | moved partitions | kill -> first applied ms | kill -> all moved partitions owned ms | kill -> all waiting applied ms | waiting messages | trickle sent / skipped | goal |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  failovers.forEach((f, index) => {
    if (f instanceof Error) {
      process.exitCode = 1;
      console.log(`| ${index + 1} | failed: ${f.message.replaceAll("\n", " ")} | | | | | | NOT met |`);
      return;
    }
    console.log(
      `| ${index + 1} | ${f.movedPartitions} | ${fmt(f.firstAppliedMs)} | ${fmt(f.takenOverMs)} | ${fmt(f.allAppliedMs)} | ` +
        `${f.waiting} | ${f.trickleSent} / ${f.trickleSkipped} | ${f.firstAppliedMs <= goal ? "met" : "NOT met"} |`,
    );
  });
}
