import { Counter, collectDefaultMetrics, Registry } from "prom-client";
import type { CacheObserver } from "../cache/cache-observer.js";
import type { DispatchObserver } from "../dispatch/dispatch-observer.js";
import type { HostObserver } from "../host/host-observer.js";
import { type ClusterMetricSource, registerClusterMetrics } from "./cluster-metrics.js";
import { FastHistogram } from "./fast-histogram.js";
import { LabelledCounts } from "./labelled-counts.js";
import type { RuntimeSnapshot, WorkerPoolStats } from "./metric-sources.js";
import { registerRuntimeGauges, registerWorkerPoolGauges } from "./scrape-metrics.js";
import { WebRequestHistogram } from "./web-request-histogram.js";

const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];
/** A scrape reads the runtime once; gauges collected within this window share the read. */
const SNAPSHOT_TTL_MS = 100;

const NO_LABELS = () => ({});

type FnLabels = { function_type: string };
type FailedLabels = { function_type: string; code: string };
/** Worker pools by name, read at scrape time (the function host's pools change on reload). */
type WorkerPoolSource = () => Iterable<readonly [string, WorkerPoolStats]>;

/**
 * Every Switchboard metric, in one registry. Hot-path events (messages, invocations,
 * commits, web requests, cache lookups) are counted cheaply as they happen; everything
 * that is already a number somewhere (backlogs, pools, outbox) is read at scrape time. The
 * dispatcher, the function host and the cache see it only through their observer
 * interfaces; the runtime registers the host's pools with `addWorkerPools`.
 */
export class Metrics implements DispatchObserver, HostObserver, CacheObserver {
  readonly registry = new Registry();
  private readonly acceptedCounts = new LabelledCounts<FnLabels>();
  private readonly appliedCounts = new LabelledCounts<FnLabels>();
  private readonly failedCounts = new LabelledCounts<FailedLabels>();
  /** Hits and misses per backend: a lookup bumps a number, building no key. */
  private readonly cacheCounts = new Map<string, { hit: number; miss: number }>();
  private readonly invocationSeconds: FastHistogram<{ endpoint: string; outcome: string }>;
  private readonly batchSize: FastHistogram<{ endpoint: string }>;
  private readonly commitSeconds: FastHistogram;
  private readonly commitGroupSize: FastHistogram;
  private readonly webSeconds: WebRequestHistogram;
  private readonly workerPools = new Map<string, () => WorkerPoolStats>();
  private readonly workerPoolSources: WorkerPoolSource[] = [];
  private source: (() => RuntimeSnapshot) | undefined;
  private snapshot: { at: number; value: RuntimeSnapshot } | undefined;
  private clusterAdded = false;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });

    this.countsCounter(
      "switchboard_messages_accepted_total",
      "Messages durably accepted from ingress (and re-injected dead letters), per function type.",
      ["function_type"],
      this.acceptedCounts,
    );
    this.countsCounter(
      "switchboard_messages_applied_total",
      "Messages whose batch result was applied, per function type.",
      ["function_type"],
      this.appliedCounts,
    );
    this.countsCounter(
      "switchboard_messages_failed_total",
      "Messages in batches that failed and suspended their address, per function type and error code.",
      ["function_type", "code"],
      this.failedCounts,
    );

    this.invocationSeconds = new FastHistogram(
      "switchboard_invocation_duration_seconds",
      "Duration of one request to a function (remote call or embedded), per endpoint and outcome.",
      SECONDS_BUCKETS,
      this.registry,
    );
    this.batchSize = new FastHistogram(
      "switchboard_invocation_batch_size",
      "Messages carried by one request to a function, per endpoint.",
      SIZE_BUCKETS,
      this.registry,
    );
    this.commitSeconds = new FastHistogram(
      "switchboard_store_commit_duration_seconds",
      "Duration of one group commit of the store (SQLite: without the WAL fsync that follows off the event loop; PostgreSQL: the whole transaction).",
      COMMIT_BUCKETS,
      this.registry,
    );
    this.commitGroupSize = new FastHistogram(
      "switchboard_store_commit_group_size",
      "Units of work (accepts, results, timer firings, deliveries) sharing one group commit.",
      SIZE_BUCKETS,
      this.registry,
    );

    registerRuntimeGauges(this.registry, () => this.read());

    this.webSeconds = new WebRequestHistogram(
      "switchboard_web_request_duration_seconds",
      "Duration of answered web function requests, per route (web function name) and status class.",
      SECONDS_BUCKETS,
      this.registry,
    );
    const cacheCounts = this.cacheCounts;
    new Counter({
      name: "switchboard_cache_requests_total",
      help: "Cache lookups per backend and result (hit, miss).",
      labelNames: ["backend", "result"] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [backend, counts] of cacheCounts) {
          this.inc({ backend, result: "hit" }, counts.hit);
          this.inc({ backend, result: "miss" }, counts.miss);
        }
      },
    });
    registerWorkerPoolGauges(this.registry, () => this.readWorkerPools());
  }

  /** Where scrape-time gauges read from (the runtime sets it once it is assembled). */
  setSource(source: () => RuntimeSnapshot): void {
    this.source = source;
    this.snapshot = undefined;
  }

  /** Cluster mode: adds the cluster gauges and the ownership changes counter (once). */
  addCluster(source: ClusterMetricSource): void {
    if (this.clusterAdded) return;
    this.clusterAdded = true;
    registerClusterMetrics(this.registry, source);
  }

  // DispatchObserver: called once per accepted message / per applied or failed batch.
  accepted(fn: string): void {
    this.acceptedCounts.add(fn, () => ({ function_type: fn }));
  }

  applied(fn: string, messages: number): void {
    this.appliedCounts.add(fn, () => ({ function_type: fn }), messages);
  }

  failed(fn: string, messages: number, code: string): void {
    this.failedCounts.add(`${fn}\u0000${code}`, () => ({ function_type: fn, code }), messages);
  }

  observeInvocation(endpoint: string, seconds: number, messages: number, ok: boolean): void {
    this.invocationSeconds.observe(
      ok ? `${endpoint}\u0000ok` : `${endpoint}\u0000error`,
      () => ({
        endpoint,
        outcome: ok ? "ok" : "error",
      }),
      seconds,
    );
    this.batchSize.observe(endpoint, () => ({ endpoint }), messages);
  }

  observeCommit(groupSize: number, seconds: number): void {
    this.commitSeconds.observe("", NO_LABELS, seconds);
    this.commitGroupSize.observe("", NO_LABELS, groupSize);
  }

  /** HostObserver: one answered web request. `route` is a web function's name, never a raw path. */
  observeWebRequest(route: string, status: number, seconds: number): void {
    this.webSeconds.observe(route, status, seconds);
  }

  /** CacheObserver: one lookup on `backend` (memory, redis, ...). */
  cacheLookup(backend: string, hit: boolean): void {
    let counts = this.cacheCounts.get(backend);
    if (!counts) {
      counts = { hit: 0, miss: 0 };
      this.cacheCounts.set(backend, counts);
    }
    if (hit) counts.hit++;
    else counts.miss++;
  }

  /** One pool under a fixed name, read at each scrape. */
  addWorkerPool(pool: string, read: () => WorkerPoolStats): void {
    this.workerPools.set(pool, read);
  }

  /** Pools whose set changes (the function host's, across reloads), all read at each scrape. */
  addWorkerPools(read: WorkerPoolSource): void {
    this.workerPoolSources.push(read);
  }

  /** Totals for the admin view (counted here, so they include what stats() does not split). */
  totals(): { accepted: number; applied: number; failed: number } {
    return {
      accepted: this.acceptedCounts.total(),
      applied: this.appliedCounts.total(),
      failed: this.failedCounts.total(),
    };
  }

  /** The Prometheus text exposition. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    this.snapshot = undefined;
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private *readWorkerPools(): Iterable<readonly [string, WorkerPoolStats]> {
    for (const [pool, read] of this.workerPools) yield [pool, read()];
    for (const source of this.workerPoolSources) yield* source();
  }

  private read(): RuntimeSnapshot | undefined {
    if (!this.source) return undefined;
    const now = Date.now();
    if (!this.snapshot || now - this.snapshot.at > SNAPSHOT_TTL_MS) {
      this.snapshot = { at: now, value: this.source() };
    }
    return this.snapshot.value;
  }

  private countsCounter<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    counts: LabelledCounts<Record<L, string>>,
  ): void {
    new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { labels, value } of counts.entries()) this.inc(labels, value);
      },
    });
  }
}
