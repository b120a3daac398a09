/**
 * The global cap on requests in flight (StateFun's statefun.async.max-per-task). Addresses
 * waiting for a slot are served in arrival order, so no address starves.
 */
export class InFlightLimiter {
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  /** Runs `start` now if a slot is free, else when one frees up. */
  acquire(start: () => void): void {
    if (this.inFlight < this.limit) {
      this.inFlight++;
      start();
    } else {
      this.waiting.push(start);
    }
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }

  /** Forgets everyone waiting for a slot (on shutdown: their batches stay stored). */
  clearWaiting(): void {
    this.waiting.length = 0;
  }

  get active(): number {
    return this.inFlight;
  }

  get queued(): number {
    return this.waiting.length;
  }
}
