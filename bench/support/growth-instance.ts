/**
 * One instance of the growth benchmark: a real `switchboard run` child (its own pid, so RSS and
 * CPU come from /proc) on a data directory the caller may have prefilled, serving two function
 * types: `bench/*` on a live SDK counter and `outage/*` on a port nothing listens on until
 * `startOutageEndpoint()`. Start-up is timed from spawn to "switchboard is running", then to the
 * first 202 at ingress, then to the first quiet moment (the start-up work done, CPU idle).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CliInstance, startCliInstance } from "./cli-instance.js";
import { processCpuMs } from "./cpu-time.js";
import { freeBases } from "./free-ports.js";
import { startServerProcess, stopProcess } from "./processes.js";

type ServerProcess = Awaited<ReturnType<typeof startServerProcess>>;

export interface StartUp {
  /** spawn -> "switchboard is running" */
  runningMs: number;
  /** spawn -> first 202 at ingress */
  ingressMs: number;
  /** spawn -> CPU quiet (less than QUIET_CPU_MS in a QUIET_WINDOW_MS window) */
  quietMs: number;
  /** CPU the child used from spawn until quiet */
  cpuMs: number;
  rssMb: number;
}

export interface GrowthInstance {
  readonly pid: number;
  readonly ingressUrl: string;
  readonly startUp: StartUp;
  rssMb(): number;
  cpuMs(): number;
  /** messages applied per function type, from /metrics */
  applied(): Promise<Map<string, number>>;
  /** dispatch's own figures (addresses held, suspended, endpoints down ...), from /api/overview */
  dispatcherStats(): Promise<Record<string, number>>;
  startOutageEndpoint(): Promise<void>;
  stop(): Promise<void>;
}

const QUIET_WINDOW_MS = 500;
const QUIET_CPU_MS = 30;

export function rssMbOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** $BENCH_GROWTH_PROFILE_DIR: each instance writes a V8 CPU profile (whole run) there when it exits. */
function profileArgs(): string[] {
  const dir = process.env.BENCH_GROWTH_PROFILE_DIR;
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [];
}

/** $BENCH_GROWTH_RUN_ARGS: extra `switchboard run` flags for every cell, e.g. "--max-in-flight 128". */
function extraRunArgs(): string[] {
  return (process.env.BENCH_GROWTH_RUN_ARGS ?? "").split(/\s+/).filter((arg) => arg !== "");
}

export async function startGrowthInstance(dataDir: string, dir: string): Promise<GrowthInstance> {
  const counter = await startServerProcess("sdk-counter-server.ts");
  let outage: ServerProcess | undefined;
  const [ingressPort, adminPort, outagePort] = (await freeBases(3, [0])) as [number, number, number];
  const moduleFile = join(dir, "module.yaml");
  writeFileSync(moduleFile, moduleYaml(counter.port, outagePort, ingressPort));
  const spawned = Date.now();
  const cli: CliInstance = startCliInstance(
    "growth",
    ["run", moduleFile, ...["--data-dir", dataDir, "--admin-port", String(adminPort)], ...extraRunArgs()],
    profileArgs(),
  );
  const ingressUrl = `http://127.0.0.1:${ingressPort}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  try {
    await cli.running(300_000);
    const runningMs = Date.now() - spawned;
    for (;;) {
      const response = await fetch(`${ingressUrl}/bench/counter/warm`, { method: "POST", body: "1" }).catch(
        () => undefined,
      );
      if (response?.status === 202) break;
      await sleep(5);
    }
    const ingressMs = Date.now() - spawned;
    let last = processCpuMs(cli.pid);
    for (;;) {
      await sleep(QUIET_WINDOW_MS);
      const now = processCpuMs(cli.pid);
      if (now - last < QUIET_CPU_MS) break;
      last = now;
    }
    const startUp: StartUp = {
      runningMs,
      ingressMs,
      quietMs: Date.now() - spawned - QUIET_WINDOW_MS,
      cpuMs: last,
      rssMb: rssMbOf(cli.pid),
    };
    return {
      pid: cli.pid,
      ingressUrl,
      startUp,
      rssMb: () => rssMbOf(cli.pid),
      cpuMs: () => processCpuMs(cli.pid),
      applied: () => appliedByFunction(adminUrl),
      dispatcherStats: async () => {
        const overview = (await fetch(`${adminUrl}/api/overview`).then((response) => response.json())) as {
          dispatcher: Record<string, number>;
        };
        return overview.dispatcher;
      },
      async startOutageEndpoint() {
        outage = await startServerProcess("sdk-counter-server.ts", [String(outagePort)]);
      },
      async stop() {
        await cli.stop();
        await stopProcess(counter.child);
        if (outage) await stopProcess(outage.child);
      },
    };
  } catch (error) {
    await cli.stop();
    await stopProcess(counter.child);
    throw error;
  }
}

async function appliedByFunction(adminUrl: string): Promise<Map<string, number>> {
  const text = await fetch(`${adminUrl}/metrics`).then((response) => response.text());
  const applied = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^switchboard_messages_applied_total\{function_type="([^"]+)"\} (\S+)$/.exec(line);
    if (match?.[1] && match[2]) applied.set(match[1], Number(match[2]));
  }
  return applied;
}

function moduleYaml(counterPort: number, outagePort: number, ingressPort: number): string {
  const endpoint = (namespace: string, port: number) => [
    "kind: io.statefun.endpoints.v2/http",
    "spec:",
    `  functions: ${namespace}/*`,
    `  urlPathTemplate: http://127.0.0.1:${port}/{function.name}`,
    "  transport:",
    "    type: io.statefun.transports.v1/async",
    "---",
  ];
  return [
    ...endpoint("bench", counterPort),
    ...endpoint("outage", outagePort),
    "kind: io.statefun.playground.v1/ingress",
    `spec: { port: ${ingressPort} }`,
    "",
  ].join("\n");
}
