/**
 * Switchboard against Restate 1.7, back to back on the same cores, cell by cell: the SDK
 * counter behind Switchboard's playground ingress (`full` durability) against a Restate virtual
 * object counter, both incrementing state `n` per message; 1000 random keys and one hot key;
 * c = 16, 64, 256. Restate runs one-way durable sends drained to completion (what Switchboard's
 * ingress does) and request-response calls. Restate and its SDK are installed into
 * bench/.cache/restate on first use (support/restate-install.ts), not into the project.
 *
 *   npm run bench -- restate [durationMs=4000] [warmupMs=2000] [drainLimitMs=20000]
 *
 * Every process is fresh per cell, so each cell first runs warmupMs of unmeasured load (as the
 * Restate reference figures had 2 s of warm-up): Switchboard's two Node processes and Restate's
 * SDK process compile their hot paths, restate-server is compiled ahead of time.
 * A one-way cell whose backlog does not drain within drainLimitMs reports what was applied by
 * then, over the time until then, and the backlog left.
 */
import { cpus } from "node:os";
import { loadGenerator } from "./support/load.js";
import type { LoadResult } from "./support/processes.js";
import { type RestateCell, type RestateMode, restateCell } from "./support/restate-cell.js";
import { ensureRestateInstalled } from "./support/restate-install.js";
import { type SwitchboardCell, switchboardCell } from "./support/switchboard-cell.js";

const durationMs = Number(process.argv[2] ?? 4000);
const warmupMs = Number(process.argv[3] ?? 2000);
const drainLimitMs = Number(process.argv[4] ?? 20_000);
const scenarios = [
  { name: "1000 random keys", keys: 1000, goal: 5 },
  { name: "one hot key", keys: 1, goal: 20 },
];
const concurrencies = [16, 64, 256];

const install = ensureRestateInstalled();
console.log(
  `restate: ${durationMs} ms per cell after ${warmupMs} ms of warm-up (drain limit ${drainLimitMs} ms), load from ${loadGenerator()}, ` +
    `node ${process.version}, ${cpus().length} cores; restate-server ${install.serverVersion} ` +
    `(1 partition, WAL fsync on), @restatedev/restate-sdk ${install.sdkVersion}; switchboard durability=full`,
);
console.log(
  "| scenario | c | switchboard applied/s | restate send applied/s | SB / send | restate call applied/s | SB / call | " +
    "applied per CPU-s SB / send / call | SB CPU % runtime / fn | send CPU % server / SDK | call CPU % server / SDK | machine busy % SB / send / call | not ours % SB / send / call | send backlog left | failed requests SB / send / call |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");

interface Ratios {
  send: number;
  call: number;
  sendPerCpu: number;
  callPerCpu: number;
}
const worst = new Map<string, Ratios>();
for (const scenario of scenarios) {
  for (const concurrency of concurrencies) {
    const sb = await switchboardCell(scenario.keys, concurrency, durationMs, "full", warmupMs);
    const restate = (mode: RestateMode) =>
      restateCell(install, mode, scenario.keys, concurrency, durationMs, drainLimitMs, warmupMs);
    const send = await restate("send");
    const call = await restate("call");
    console.log(row(scenario.name, concurrency, sb, send, call));
    const ratios = worst.get(scenario.name) ?? {
      send: Number.POSITIVE_INFINITY,
      call: Number.POSITIVE_INFINITY,
      sendPerCpu: Number.POSITIVE_INFINITY,
      callPerCpu: Number.POSITIVE_INFINITY,
    };
    ratios.send = Math.min(ratios.send, sb.appliedPerSecond / send.appliedPerSecond);
    ratios.call = Math.min(ratios.call, sb.appliedPerSecond / call.appliedPerSecond);
    ratios.sendPerCpu = Math.min(ratios.sendPerCpu, perCpuSecond(sb) / perCpuSecond(send));
    ratios.callPerCpu = Math.min(ratios.callPerCpu, perCpuSecond(sb) / perCpuSecond(call));
    worst.set(scenario.name, ratios);
  }
}
for (const scenario of scenarios) {
  const ratios = worst.get(scenario.name);
  if (!ratios) continue;
  const verdict = (ratio: number) => `${fmt(ratio, 1)}x (${ratio >= scenario.goal ? "met" : "not met"})`;
  console.log(
    `${scenario.name}: goal >= ${scenario.goal}x; lowest Switchboard/Restate over c: ` +
      `vs one-way sends ${verdict(ratios.send)}, vs request-response ${verdict(ratios.call)}; ` +
      `per CPU-second: vs sends ${fmt(ratios.sendPerCpu, 1)}x, vs request-response ${fmt(ratios.callPerCpu, 1)}x`,
  );
}

function row(name: string, concurrency: number, sb: SwitchboardCell, send: RestateCell, call: RestateCell) {
  const cpuPair = (cpu: Record<string, number>, a: string, b: string) => `${fmt(cpu[a])} / ${fmt(cpu[b])}`;
  return (
    `| ${name} | ${concurrency} | ${fmt(sb.appliedPerSecond)} | ${fmt(send.appliedPerSecond)} | ` +
    `${fmt(sb.appliedPerSecond / send.appliedPerSecond, 1)} | ${fmt(call.appliedPerSecond)} | ` +
    `${fmt(sb.appliedPerSecond / call.appliedPerSecond, 1)} | ` +
    `${fmt(perCpuSecond(sb))} / ${fmt(perCpuSecond(send))} / ${fmt(perCpuSecond(call))} | ` +
    `${cpuPair(sb.cpu.processes, "runtime", "function")} | ` +
    `${cpuPair(send.cpu.processes, "restate-server", "restate SDK")} | ` +
    `${cpuPair(call.cpu.processes, "restate-server", "restate SDK")} | ` +
    `${fmt(sb.cpu.machine)} / ${fmt(send.cpu.machine)} / ${fmt(call.cpu.machine)} | ` +
    `${fmt(notOurs(sb.cpu))} / ${fmt(notOurs(send.cpu))} / ${fmt(notOurs(call.cpu))} | ${send.backlog} | ` +
    `${failed(sb.load)} / ${failed(send.load)} / ${failed(call.load)} |`
  );
}

/**
 * Messages applied per second of CPU the measured processes used (wrk excluded): less sensitive
 * than applied/s to how much of the machine other work took, though not immune (contention
 * also costs cache misses and context switches).
 */
function perCpuSecond(cell: {
  appliedPerSecond: number;
  cpu: { processes: Record<string, number> };
}): number {
  const cores = Object.values(cell.cpu.processes).reduce((sum, percent) => sum + percent, 0) / 100;
  return cell.appliedPerSecond / cores;
}

/**
 * Machine busy % minus the measured processes: wrk (a few %) plus whatever else ran on the
 * machine, which competed with the cell for its two cores.
 */
function notOurs(cpu: { machine: number; processes: Record<string, number> }): number {
  return cpu.machine - Object.values(cpu.processes).reduce((sum, percent) => sum + percent, 0);
}

/** Socket errors, timeouts and non-2xx answers: a cell that fails requests is not a fair figure. */
function failed(load: LoadResult): number {
  return load.errors + load.rejected;
}

function fmt(n: number | undefined, digits = 0): string {
  return n === undefined || !Number.isFinite(n) ? "-" : n.toFixed(digits);
}
