import type { Registry } from "prom-client";
import { FastHistogram } from "./fast-histogram.js";

type WebLabels = { route: string; status: string };

/** One series of a route and status class, built once: observing it builds nothing. */
interface StatusSeries {
  readonly key: string;
  readonly labels: () => WebLabels;
}

/** Status classes `1xx`..`5xx`; index 0 holds anything outside 100..599. */
const CLASSES = 6;

/**
 * Web request durations per route and status class. Routes are few (the web functions'
 * names), so each gets its series keys and labels made once; a request then costs a map
 * lookup and the histogram's bucket scan, with no string or object built.
 */
export class WebRequestHistogram {
  private readonly histogram: FastHistogram<WebLabels>;
  private readonly routes = new Map<string, (StatusSeries | undefined)[]>();

  constructor(name: string, help: string, buckets: readonly number[], registry: Registry) {
    this.histogram = new FastHistogram(name, help, buckets, registry);
  }

  observe(route: string, status: number, seconds: number): void {
    let classes = this.routes.get(route);
    if (!classes) {
      classes = new Array<StatusSeries | undefined>(CLASSES).fill(undefined);
      this.routes.set(route, classes);
    }
    const index = status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
    let series = classes[index];
    if (!series) {
      const labels = { route, status: index === 0 ? "other" : `${index}xx` };
      series = { key: `${route}\u0000${labels.status}`, labels: () => labels };
      classes[index] = series;
    }
    this.histogram.observe(series.key, series.labels, seconds);
  }
}
