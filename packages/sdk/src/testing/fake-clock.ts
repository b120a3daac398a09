/** Time that only moves when a test says so; TestRuntime reads it for delays and state TTL. */
export class FakeClock {
  private current: number;

  constructor(startMs = 0) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  /** Moves time to `ms`; moving backwards is a bug in the test, so it throws. */
  set(ms: number): void {
    if (ms < this.current) throw new RangeError(`the clock cannot go back from ${this.current} to ${ms}`);
    this.current = ms;
  }
}
