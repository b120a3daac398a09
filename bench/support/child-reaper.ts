/**
 * Children a benchmark started (servers, load generators, restate-server) are stopped by their
 * own pid when the benchmark itself is interrupted: Node exits on SIGINT/SIGTERM without running
 * `finally` blocks, which would leave them running and holding cores other runs then measure.
 * Cleanups registered with `cleanUpOnInterrupt` (dropping a benchmark's databases) run after the
 * children are signalled and before the exit, for at most CLEANUP_BUDGET_MS; a second signal
 * exits at once.
 */
import type { ChildProcess } from "node:child_process";

const CLEANUP_BUDGET_MS = 10_000;

const live = new Set<ChildProcess>();
const cleanups = new Set<() => Promise<void>>();
let handlersInstalled = false;
let interrupted = false;

export function reapOnInterrupt<T extends ChildProcess>(child: T): T {
  live.add(child);
  child.once("exit", () => live.delete(child));
  installHandlers();
  return child;
}

/** Runs `cleanup` if the benchmark is interrupted; the returned function unregisters it. */
export function cleanUpOnInterrupt(cleanup: () => Promise<void>): () => void {
  cleanups.add(cleanup);
  installHandlers();
  return () => cleanups.delete(cleanup);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      const code = signal === "SIGINT" ? 130 : 143;
      if (interrupted) process.exit(code);
      interrupted = true;
      for (const running of live) running.kill("SIGTERM");
      if (cleanups.size === 0) process.exit(code);
      const budget = setTimeout(() => process.exit(code), CLEANUP_BUDGET_MS);
      void Promise.allSettled([...cleanups].map((cleanup) => cleanup())).then(() => {
        clearTimeout(budget);
        process.exit(code);
      });
    });
  }
}
