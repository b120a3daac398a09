/**
 * CPU time read from /proc (Linux clock ticks of 10 ms), for benchmarks that report how busy
 * the machine and each measured process were: on a shared 2-core machine a cell's figure means
 * little without knowing what else ran.
 */
import { readFileSync } from "node:fs";

/** Busy time of the whole machine in ms (all cores, from /proc/stat; iowait counts as idle). */
export function machineBusyMs(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1) ?? [];
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields.map(Number);
  return (user + nice + system + irq + softirq + steal) * 10;
}

/** utime + stime of one process (all its threads) in ms; 0 once it has gone. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    // The command name in field 2 may hold spaces, so count fields from its closing paren.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** CPU used by named processes and the machine between `cpuSnapshot` and `since`. */
export interface CpuSnapshot {
  at: number;
  machineMs: number;
  processMs: Map<string, number>;
}

export function cpuSnapshot(pids: Record<string, number | undefined>): CpuSnapshot {
  const processMs = new Map<string, number>();
  for (const [name, pid] of Object.entries(pids)) processMs.set(name, processCpuMs(pid));
  return { at: Date.now(), machineMs: machineBusyMs(), processMs };
}

/** Percent of one core for each process and for the machine (200 % = both cores busy). */
export function cpuPercentSince(
  before: CpuSnapshot,
  pids: Record<string, number | undefined>,
): { machine: number; processes: Record<string, number> } {
  const elapsed = Math.max(1, Date.now() - before.at);
  const processes: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    processes[name] = ((processCpuMs(pid) - (before.processMs.get(name) ?? 0)) / elapsed) * 100;
  }
  return { machine: ((machineBusyMs() - before.machineMs) / elapsed) * 100, processes };
}

/**
 * How long a process's main thread (for Node, the event loop) was runnable but waiting for a
 * core, in ms, from /proc/<pid>/schedstat; 0 once it has gone. On a shared machine this is the
 * time other work took from it.
 */
export function runQueueWaitMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").trim().split(" ");
    return Number(fields[1]) / 1e6;
  } catch {
    return 0;
  }
}
