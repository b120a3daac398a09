import type { Metric, Registry } from "prom-client";

interface Series<Labels> {
  readonly labels: Labels;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram whose observe costs a map lookup and a short bucket scan, for the
 * hot path (prom-client's Histogram hashes its label object on every observation, about a
 * microsecond). Series are keyed by a caller-built string; labels are built once per series.
 * Registered in a prom-client Registry, it is exposed like any other histogram.
 */
export class FastHistogram<Labels extends Record<string, string> = Record<string, never>> {
  readonly type = "histogram";
  private readonly series = new Map<string, Series<Labels>>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  observe(key: string, labels: () => Labels, value: number): void {
    let series = this.series.get(key);
    if (!series) {
      series = { labels: labels(), counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
      this.series.set(key, series);
    }
    const { buckets } = this;
    let index = 0;
    while (index < buckets.length && value > (buckets[index] as number)) index++;
    series.counts[index] = (series.counts[index] as number) + 1;
    series.sum += value;
    series.count++;
  }

  /** prom-client's read-out shape: cumulative buckets, then _sum and _count, per series. */
  get(): { name: string; help: string; type: string; aggregator: string; values: unknown[] } {
    const values: unknown[] = [];
    for (const series of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((bound, index) => {
        cumulative += series.counts[index] as number;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { ...series.labels, le: bound },
          value: cumulative,
        });
      });
      values.push({
        metricName: `${this.name}_bucket`,
        labels: { ...series.labels, le: "+Inf" },
        value: series.count,
      });
      values.push({ metricName: `${this.name}_sum`, labels: series.labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: series.labels, value: series.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: "sum", values };
  }

  reset(): void {
    this.series.clear();
  }
}
