/**
 * Resolves with the first SIGTERM or SIGINT. Call it before starting anything and before
 * printing that the process is running: until a handler is installed, a SIGTERM kills the
 * process outright, so one that arrives right after the "running" line would skip the drain.
 */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      resolve(signal);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}
