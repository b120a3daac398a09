import { endpointLabel } from "../config/endpoint-label.js";
import type { AdminContext } from "./admin-context.js";
import { clusterSummary } from "./cluster-view.js";

const SUSPENDED_SHOWN = 50;

function round(value: number, digits = 3): number | null {
  return Number.isFinite(value) ? Number(value.toFixed(digits)) : null;
}

/**
 * The live picture the admin page draws: one cheap read of every figure. The store counts
 * are at most a second old, however many pages poll (see StoreFigures).
 */
export async function overview(context: AdminContext, now = Date.now()): Promise<unknown> {
  const { dispatcher, store, transport, metrics } = context;
  const [{ egressPending, deadLetters }, clusterReading] = await Promise.all([
    context.storeFigures.fresh(),
    context.clusterFigures?.fresh(),
  ]);
  const [p50, p90, p99] = dispatcher.applyLatency.percentiles(50, 90, 99);
  const [b50, b99] = dispatcher.batchSizes.percentiles(50, 99);
  const suspended = dispatcher.suspendedAddresses();
  return {
    now,
    uptimeSeconds: Math.round((now - context.startedAt) / 1000),
    ready: context.ready(),
    totals: metrics.totals(),
    dispatcher: dispatcher.stats(),
    applyLatencyMs: {
      p50: round(p50 ?? Number.NaN),
      p90: round(p90 ?? Number.NaN),
      p99: round(p99 ?? Number.NaN),
      samples: dispatcher.applyLatency.count,
    },
    batchSize: { p50: round(b50 ?? Number.NaN), p99: round(b99 ?? Number.NaN) },
    store: store.stats(),
    egressPending,
    deadLetters,
    suspended: suspended.slice(0, SUSPENDED_SHOWN),
    suspendedTotal: suspended.length,
    endpointsDown: dispatcher.endpointsDown(),
    pools: transport.stats(),
    endpoints: context.endpoints().map((endpoint) => endpointLabel(endpoint)),
    // This instance's figures above; the cluster's members, what they own and their lag here.
    cluster: context.cluster ? clusterSummary(clusterReading, context.cluster) : null,
  };
}
