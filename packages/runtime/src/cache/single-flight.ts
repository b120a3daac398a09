/**
 * At most one run of a piece of work per key at a time: callers arriving while it runs share
 * its outcome (value or error) instead of starting their own. In-process only.
 */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T> | T): Promise<T> {
    const existing = this.running.get(key);
    if (existing) return existing;
    const flight = (async () => {
      try {
        return await work();
      } finally {
        this.running.delete(key);
      }
    })();
    this.running.set(key, flight);
    return flight;
  }

  isRunning(key: string): boolean {
    return this.running.has(key);
  }

  /** Settles once every flight running now has settled (errors ignored), for shutdown. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }
}
