import { Counter, Gauge, type Registry } from "prom-client";
import type { RuntimeSnapshot, WorkerPoolStats } from "./metric-sources.js";

/**
 * Metrics read at scrape time from figures the runtime already keeps (dispatcher stats,
 * store counts, transport pool stats, worker pools): nothing is counted between scrapes.
 */
export function registerRuntimeGauges(registry: Registry, read: () => RuntimeSnapshot | undefined): void {
  const gauge = (name: string, help: string, readValue: (snapshot: RuntimeSnapshot) => number) =>
    snapshotGauge(registry, read, name, help, readValue);
  gauge(
    "switchboard_backlog_messages",
    "Messages waiting for the addresses dispatch holds in memory (parked addresses' wait in the store).",
    (s) => s.dispatcher.backlog,
  );
  gauge("switchboard_addresses_in_flight", "Addresses with a batch in flight.", (s) => s.dispatcher.inFlight);
  gauge(
    "switchboard_addresses_waiting_for_slot",
    "Addresses waiting for a global in-flight slot.",
    (s) => s.dispatcher.waitingForSlot,
  );
  gauge(
    "switchboard_addresses_suspended",
    "Addresses suspended after a failed batch.",
    (s) => s.dispatcher.suspended,
  );
  gauge(
    "switchboard_endpoints_down",
    "Function endpoints backed off as a whole after failing across addresses.",
    (s) => s.dispatcher.endpointsDown,
  );
  gauge(
    "switchboard_addresses_backpressured",
    "Addresses whose backlog reached maxNumBatchRequests.",
    (s) => s.dispatcher.backpressured,
  );
  gauge(
    "switchboard_dispatch_held_messages",
    "Copies of stored messages dispatch holds to send without reading them back (embedded store).",
    (s) => s.dispatcher.heldMessages,
  );
  gauge(
    "switchboard_delayed_messages_pending",
    "Delayed messages stored and not yet fired.",
    (s) => s.dispatcher.delayedPending,
  );
  gauge(
    "switchboard_egress_pending_records",
    "Egress records in the durable outbox, not yet delivered.",
    (s) => s.egressPending,
  );
  gauge("switchboard_dead_letters", "Messages in the dead-letter store.", (s) => s.deadLetters);

  new Gauge({
    name: "switchboard_transport_connections",
    help: "Pooled outbound connections per origin, open (all) and idle (free for reuse).",
    labelNames: ["origin", "state"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const origin of read()?.origins ?? []) {
        this.set({ origin: origin.origin, state: "open" }, origin.connectionsOpen);
        this.set({ origin: origin.origin, state: "idle" }, origin.connectionsIdle);
      }
    },
  });
  const originCounter = (
    name: string,
    help: string,
    value: (origin: RuntimeSnapshot["origins"][number]) => number,
  ) =>
    new Counter({
      name,
      help,
      labelNames: ["origin"] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const origin of read()?.origins ?? []) this.inc({ origin: origin.origin }, value(origin));
      },
    });
  originCounter(
    "switchboard_transport_requests_total",
    "Outbound request attempts per origin.",
    (o) => o.requests,
  );
  originCounter(
    "switchboard_transport_reused_connections_total",
    "Outbound attempts served on an already open connection, per origin.",
    (o) => o.reusedConnections,
  );
  originCounter(
    "switchboard_transport_retries_total",
    "Outbound attempts retried after a retryable failure, per origin.",
    (o) => o.retries,
  );
  new Counter({
    name: "switchboard_transport_timeouts_total",
    help: "Outbound timeouts per origin and kind (connect, read, write, call).",
    labelNames: ["origin", "kind"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const origin of read()?.origins ?? []) {
        for (const [kind, count] of Object.entries(origin.timeouts))
          this.inc({ origin: origin.origin, kind }, count);
      }
    },
  });
}

/** Worker pool figures, read once per gauge at each scrape. */
export function registerWorkerPoolGauges(
  registry: Registry,
  pools: () => Iterable<readonly [string, WorkerPoolStats]>,
): void {
  new Gauge({
    name: "switchboard_worker_pool_workers",
    help: "Workers per pool, busy or idle.",
    labelNames: ["pool", "state"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [pool, stats] of pools()) {
        this.set({ pool, state: "busy" }, stats.busy);
        this.set({ pool, state: "idle" }, stats.idle);
      }
    },
  });
  new Gauge({
    name: "switchboard_worker_pool_utilisation_ratio",
    help: "Busy workers over all workers, per pool (0..1).",
    labelNames: ["pool"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [pool, { busy, idle }] of pools()) {
        this.set({ pool }, busy + idle === 0 ? 0 : busy / (busy + idle));
      }
    },
  });
  new Gauge({
    name: "switchboard_worker_pool_queued_tasks",
    help: "Tasks waiting for a free worker, per pool.",
    labelNames: ["pool"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [pool, stats] of pools()) this.set({ pool }, stats.queued);
    },
  });
}

function snapshotGauge(
  registry: Registry,
  read: () => RuntimeSnapshot | undefined,
  name: string,
  help: string,
  value: (snapshot: RuntimeSnapshot) => number,
): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      const snapshot = read();
      this.set(snapshot ? value(snapshot) : 0);
    },
  });
}
