import type { DispatcherStats } from "../dispatch/dispatcher.js";
import type { OriginStats } from "../transport/types.js";

/** What the collect-time gauges read; one snapshot per scrape. */
export interface RuntimeSnapshot {
  readonly dispatcher: DispatcherStats;
  readonly egressPending: number;
  readonly deadLetters: number;
  readonly origins: readonly OriginStats[];
}

/** A worker pool's figures, read at scrape time (the function host registers one per pool). */
export interface WorkerPoolStats {
  readonly busy: number;
  readonly idle: number;
  readonly queued: number;
}
