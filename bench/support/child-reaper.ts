/**
 * Children a benchmark started (servers, load generators, restate-server) are stopped by their
 * own pid when the benchmark itself is interrupted: Node exits on SIGINT/SIGTERM without running
 * `finally` blocks, which would leave them running and holding cores other runs then measure.
 */
import type { ChildProcess } from "node:child_process";

const live = new Set<ChildProcess>();
let handlersInstalled = false;

export function reapOnInterrupt<T extends ChildProcess>(child: T): T {
  live.add(child);
  child.once("exit", () => live.delete(child));
  if (!handlersInstalled) {
    handlersInstalled = true;
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        for (const running of live) running.kill("SIGTERM");
        process.exit(signal === "SIGINT" ? 130 : 143);
      });
    }
  }
  return child;
}
