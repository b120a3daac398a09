/**
 * The last N latency samples, for percentiles in benchmarks, metrics and the admin view.
 * A fixed ring keeps memory constant however long the runtime runs.
 */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(capacity = 16_384) {
    this.samples = new Float64Array(capacity);
  }

  record(valueMs: number): void {
    this.samples[this.next] = valueMs;
    this.next = (this.next + 1) % this.samples.length;
    if (this.filled < this.samples.length) this.filled++;
  }

  /** Percentiles (0..100) of the samples in the window; NaN when empty. */
  percentiles(...ps: number[]): number[] {
    if (this.filled === 0) return ps.map(() => Number.NaN);
    const sorted = this.samples.slice(0, this.filled).sort();
    return ps.map(
      (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN,
    );
  }

  get count(): number {
    return this.filled;
  }

  reset(): void {
    this.next = 0;
    this.filled = 0;
  }
}
