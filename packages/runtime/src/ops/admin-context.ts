import type { ClusterMember } from "../cluster/cluster-member.js";
import type { FunctionEndpoint, FunctionRouter, ModuleConfig } from "../config/model.js";
import type { Dispatcher } from "../dispatch/dispatcher.js";
import type { EgressSink } from "../io/egress-sink.js";
import type { StoreBackend } from "../store/contract.js";
import type { Transport } from "../transport/types.js";
import type { ClusterFigures } from "./cluster-view.js";
import type { Metrics } from "./metrics.js";
import type { StoreFigures } from "./store-figures.js";
import type { Tracing } from "./tracing.js";

/** The parts of a running runtime the admin API reads and acts on. */
export interface AdminContext {
  readonly config: ModuleConfig;
  /**
   * Routes every function type the dispatcher routes: remote endpoints and hosted modules
   * alike (`config.router` knows only the remote ones).
   */
  readonly router: FunctionRouter;
  /** Remote endpoints and the endpoints hosted modules bind, as they are now. */
  endpoints(): readonly FunctionEndpoint[];
  /** The store, through its contract only: the admin API works the same on SQLite and PostgreSQL. */
  readonly store: StoreBackend;
  /** Outbox and dead-letter counts, recounted at most once a second. */
  readonly storeFigures: StoreFigures;
  readonly dispatcher: Dispatcher;
  readonly transport: Transport;
  readonly egresses: readonly EgressSink[];
  readonly metrics: Metrics;
  /** The functions' cache; readiness follows whether its backend is reachable. */
  readonly cache: { readonly reachable: boolean };
  /** This instance's cluster membership; undefined on the embedded store (no cluster). */
  readonly cluster?: ClusterMember | undefined;
  /** Members, owners and lag, read at most once a second; present with `cluster`. */
  readonly clusterFigures?: ClusterFigures | undefined;
  /** Present only when tracing is configured. */
  readonly tracing?: Tracing | undefined;
  readonly startedAt: number;
  /** True between the end of start-up and the beginning of shutdown. */
  ready(): boolean;
}
