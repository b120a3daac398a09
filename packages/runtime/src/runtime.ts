import type { Cache } from "./cache/cache.js";
import { createCacheFromConfig } from "./cache/create-cache.js";
import type { ClusterMember } from "./cluster/cluster-member.js";
import { allComponentKinds } from "./config/all-component-kinds.js";
import { LiveConfig } from "./config/live-config.js";
import { formatDiagnostic, loadModules } from "./config/load-modules.js";
import type { LoadedComponent, ModuleConfig } from "./config/model.js";
import { offsetListenerPorts } from "./config/port-offset.js";
import { transportDefaults } from "./config/transport-defaults.js";
import { type ReloadReport, reloadRuntime } from "./dev/reload-runtime.js";
import { Dispatcher } from "./dispatch/dispatcher.js";
import { type Logger, silentLogger } from "./dispatch/logger.js";
import { ConfigErrors } from "./errors/config-errors.js";
import { StoreErrors } from "./errors/store-errors.js";
import { SwitchboardError } from "./errors/switchboard-error.js";
import { FunctionHost } from "./host/function-host.js";
import type { FunctionInvoker } from "./invoke/function-invoker.js";
import { RemoteInvoker } from "./invoke/remote-invoker.js";
import type { EgressSink } from "./io/egress-sink.js";
import { LOG_EGRESS_KIND, LogEgress, type LogEgressSpec } from "./io/log-egress.js";
import {
  PLAYGROUND_EGRESS_KIND,
  PlaygroundEgress,
  type PlaygroundEgressSpec,
} from "./io/playground-egress.js";
import {
  PLAYGROUND_INGRESS_KIND,
  PlaygroundIngress,
  type PlaygroundIngressSpec,
} from "./io/playground-ingress.js";
import { WEBHOOK_EGRESS_KIND, WebhookEgress, type WebhookEgressSpec } from "./io/webhook-egress.js";
import { advertisesUnreachable, checkAdminExposure } from "./ops/admin-access.js";
import { ingressSpans } from "./ops/ingress-spans.js";
import { InstrumentedInvoker } from "./ops/instrumented-invoker.js";
import { Metrics } from "./ops/metrics.js";
import { Ops } from "./ops/ops.js";
import { TracedTransport } from "./ops/traced-transport.js";
import { Tracing, type TracingOptions } from "./ops/tracing.js";
import { TracingInvoker } from "./ops/tracing-invoker.js";
import type { StoreBackend } from "./store/contract.js";
import { type ClusterOptions, openRuntimeStore, type RuntimeStore } from "./store/open-runtime-store.js";
import type { Durability, Store } from "./store/store.js";
import { createTransport } from "./transport/index.js";
import type { Transport } from "./transport/types.js";

export interface RuntimeOptions {
  /** Module YAML files or directories. */
  readonly modules: readonly string[];
  /** Where the embedded store lives; default `./.switchboard`. */
  readonly dataDir?: string;
  /**
   * A `postgres://` URL: run as one instance of a cluster sharing that PostgreSQL store
   * (docs/cluster.md). Absent: the embedded SQLite store in `dataDir`.
   */
  readonly store?: string;
  /** Cluster settings (with `store`): instance id, lease, advertised host. */
  readonly cluster?: ClusterOptions;
  readonly durability?: Durability;
  /** Global cap on batches in flight; default 1024. */
  readonly maxInFlight?: number;
  /** Addresses dispatch holds in memory; the rest of the backlog waits in the store. Default 8192. */
  readonly maxActiveAddresses?: number;
  readonly logger?: Logger;
  /** Replaces the remote invoker (tests, embedded functions). */
  readonly invoker?: FunctionInvoker;
  /** Admin server port (health, metrics, admin API, live page); undefined = no admin server. */
  readonly adminPort?: number;
  /** Interface the admin server binds; default 127.0.0.1. */
  readonly adminHost?: string;
  /**
   * Bearer token admin actions (retry, dead-letter, re-inject, drop) need; required when
   * `adminHost` is not loopback (SB_ADMIN_TOKEN_REQUIRED otherwise).
   */
  readonly adminToken?: string;
  /** OpenTelemetry export (OTLP over HTTP); undefined = no tracing, at no cost. */
  readonly tracing?: TracingOptions;
  /** How long `stop()` waits for batches in flight before ending them; default 5000. */
  readonly drainTimeoutMs?: number;
  /** Added to every listen port of the module YAML (`--port-offset`; see config/port-offset.ts). */
  readonly portOffset?: number;
  /**
   * Whether web functions may be served inside the workers where Node can share the port
   * (docs/host.md); default true. `switchboard dev` says false: a reload that replaces a pool
   * would close the old workers' listening sockets, and the kernel resets connections queued
   * on a closed socket of a shared port, so a client polling across a reload could see one fail.
   */
  readonly webInWorkers?: boolean;
}

/** The drain `stop()` allows batches in flight unless told otherwise. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 5000;
/** After the drain, how long batches ended by closing the transport get to record their failure. */
const SETTLE_MS = 1000;
/** The most the last spans' export may add to a stop. */
const TRACE_FLUSH_MS = 2000;

/**
 * One running Switchboard: configuration, store, transport, dispatcher, ingresses and
 * egresses, started in that order and stopped in reverse.
 */
export class Runtime {
  private stopped = false;
  private reloading: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly config: ModuleConfig,
    private readonly opened: RuntimeStore,
    readonly transport: Transport,
    readonly dispatcher: Dispatcher,
    readonly ingresses: readonly PlaygroundIngress[],
    readonly egresses: readonly EgressSink[],
    readonly ops: Ops,
    private readonly logger: Logger,
    /** The functions' cache (memory unless a cache component says otherwise). */
    readonly cache: Cache,
    /** Hosted modules and web listeners (io.switchboard.functions.v1/*). */
    readonly host: FunctionHost,
    private readonly reloadable: Omit<Parameters<typeof reloadRuntime>[0], "host" | "dispatcher">,
    private readonly drainTimeoutMs: number,
  ) {}

  get metrics(): Metrics {
    return this.ops.context.metrics;
  }

  /** The store everything runs on (the embedded SQLite store, or PostgreSQL in a cluster). */
  get backend(): StoreBackend {
    return this.opened.backend;
  }

  /** This instance's cluster membership; undefined on the embedded store. */
  get cluster(): ClusterMember | undefined {
    return this.opened.cluster;
  }

  /** The embedded SQLite store (tests and tools); there is none in cluster mode. */
  get store(): Store {
    if (!this.opened.embedded) {
      throw new SwitchboardError(
        StoreErrors.FAILED,
        "this runtime runs on PostgreSQL: it has no embedded store",
      );
    }
    return this.opened.embedded;
  }

  static async start(options: RuntimeOptions): Promise<Runtime> {
    const logger = options.logger ?? silentLogger;
    // Before anything opens: an exposed admin API without a token never starts.
    if (options.adminPort !== undefined) {
      checkAdminExposure({ host: options.adminHost ?? "127.0.0.1", token: options.adminToken });
    }
    // Live, so `reload` can replace it under everything that routes (switchboard dev).
    const config = new LiveConfig(await loadConfig(options.modules, options.portOffset ?? 0));
    const opened = await openRuntimeStore({
      ...(options.store !== undefined ? { store: options.store } : {}),
      ...(options.cluster ? { cluster: options.cluster } : {}),
      dataDir: options.dataDir ?? ".switchboard",
      durability: options.durability ?? "full",
      logger,
    });
    const tracing = Tracing.create(options.tracing);
    const transport = tracing ? new TracedTransport(createTransport(), tracing) : createTransport();
    const metrics = new Metrics();
    // Everything past this point (dispatch, egress, the admin API) works through the store
    // contract, so it runs the same on the PostgreSQL backend.
    const { backend, cluster } = opened;
    backend.observeCommits((size, seconds) => metrics.observeCommit(size, seconds));
    let cache: Cache | undefined;
    const egresses: EgressSink[] = [];
    const ingresses: PlaygroundIngress[] = [];
    let host: FunctionHost | undefined;
    let ops: Ops | undefined;
    let startedDispatcher: Dispatcher | undefined;
    try {
      cache = await createCacheFromConfig(config, { logger, observer: metrics });
      const started = await FunctionHost.start({
        components: config.components,
        remoteRouter: config.router,
        transport,
        logger,
        cache,
        observer: metrics,
        webInWorkers: options.webInWorkers,
      });
      host = started;
      // Read at each scrape: a reload (switchboard dev) replaces pools behind this.
      metrics.addWorkerPools(() => started.poolStats());
      for (const component of config.components) {
        const sink = createEgress(component, backend, transport, logger);
        if (!sink) continue;
        if (egresses.some((existing) => existing.id === sink.id)) {
          throw new SwitchboardError(
            ConfigErrors.INVALID,
            `${component.source.file}:${component.source.line}:${component.source.col} egress ${sink.id} is bound twice`,
          );
        }
        egresses.push(sink);
      }
      const byId = new Map<string, EgressSink>(egresses.map((sink) => [sink.id, sink]));
      const invoker = options.invoker ?? new RemoteInvoker(config.router, transport);
      const dispatcher = new Dispatcher({
        store: backend,
        router: host.router,
        invoker: new InstrumentedInvoker(
          host.invoker(tracing ? new TracingInvoker(invoker, host.router, tracing) : invoker),
          host.router,
          metrics,
        ),
        egress: { get: (id) => byId.get(id) },
        logger,
        observer: metrics,
        ...(options.maxInFlight !== undefined ? { maxInFlight: options.maxInFlight } : {}),
        ...(options.maxActiveAddresses !== undefined
          ? { maxActiveAddresses: options.maxActiveAddresses }
          : {}),
        ...(cluster ? { claim: cluster.claim } : {}),
      });
      // The admin port opens before any work starts: a taken port fails start-up cleanly,
      // and /healthz and /metrics answer during recovery (/readyz only once started).
      ops = await Ops.start(
        {
          config,
          router: started.router,
          endpoints: () => [...config.endpoints, ...started.embeddedEndpoints],
          store: backend,
          dispatcher,
          transport,
          egresses,
          metrics,
          tracing,
          cache,
          cluster,
        },
        {
          ...(options.adminPort !== undefined ? { port: options.adminPort } : {}),
          ...(options.adminHost ? { host: options.adminHost } : {}),
          ...(options.adminToken ? { token: options.adminToken } : {}),
        },
        logger,
      );
      // Other instances forward admin actions on this instance's addresses to this port.
      const adminPort = ops.adminPort;
      if (cluster && adminPort !== undefined) {
        await cluster.advertisePorts({ admin: adminPort });
        const adminHost = options.adminHost ?? "127.0.0.1";
        if (options.cluster?.advertiseHost !== undefined && advertisesUnreachable(cluster.host, adminHost)) {
          logger.warn(
            { advertiseHost: cluster.host, adminHost },
            `this instance advertises ${cluster.host} but its admin server binds ${adminHost} only: other instances cannot forward admin actions to it (bind --admin-host beyond loopback, with --admin-token)`,
          );
        }
      }
      startedDispatcher = dispatcher;
      await dispatcher.start();
      for (const sink of egresses) await sink.start();
      await cluster?.attach({
        gained: () => {
          void dispatcher.ownershipGained();
          // Records the partitions' previous owner left undelivered.
          for (const sink of egresses) sink.notify();
        },
        lost: () => dispatcher.ownershipLost(),
        storedElsewhere: (fromSeq) => dispatcher.messagesStoredElsewhere(fromSeq),
      });
      for (const component of config.components) {
        if (component.kind !== PLAYGROUND_INGRESS_KIND) continue;
        const ingress = new PlaygroundIngress(
          component.spec as PlaygroundIngressSpec,
          dispatcher,
          logger,
          tracing ? ingressSpans(tracing) : undefined,
        );
        await ingress.start();
        ingresses.push(ingress);
      }
      ops.markReady();
      logger.info(
        {
          store: opened.location,
          ...(cluster ? { instance: cluster.instanceId } : {}),
          endpoints: config.endpoints.length,
          ingresses: ingresses.length,
          egresses: egresses.length,
        },
        "switchboard started",
      );
      const reloadable = {
        paths: options.modules,
        portOffset: options.portOffset ?? 0,
        config,
        ingresses,
        egresses,
        egressById: byId,
        createEgress: (component: LoadedComponent) => createEgress(component, backend, transport, logger),
        logger,
      };
      return new Runtime(
        config,
        opened,
        transport,
        dispatcher,
        ingresses,
        egresses,
        ops,
        logger,
        cache,
        host,
        reloadable,
        options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
      );
    } catch (error) {
      for (const ingress of ingresses) await ingress.stop();
      await startedDispatcher?.stop(0);
      await ops?.stop();
      await host?.stop();
      for (const sink of egresses) await sink.stop().catch(() => {});
      await transport.close();
      await cache?.close();
      await tracing?.shutdown().catch(() => {});
      await opened.close().catch(() => {});
      throw error;
    }
  }

  /**
   * Re-reads the module YAML and swaps what changed without touching stored state or queued
   * messages (`switchboard dev`); `changedFiles` marks hosted modules whose code changed.
   * A configuration or module that fails to validate or load changes nothing.
   */
  reload(changedFiles: readonly string[] = []): Promise<ReloadReport> {
    if (this.stopped) return Promise.resolve({ ok: false, error: "the runtime has stopped", ms: 0 });
    const run = () =>
      reloadRuntime({ ...this.reloadable, host: this.host, dispatcher: this.dispatcher }, changedFiles);
    const next = this.reloading.then(run, run);
    this.reloading = next;
    return next;
  }

  /**
   * Stops taking messages, lets batches in flight finish (up to `graceMs`, default the
   * `drainTimeoutMs` option), then ends what is still running (calls, retries, egress
   * deliveries, hosted invocations) and flushes the store. Bounded: about `graceMs` plus
   * a few seconds, whatever the function endpoints do. Messages not applied stay stored.
   */
  async stop(graceMs = this.drainTimeoutMs): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ops.markStopping();
    for (const ingress of this.ingresses) await ingress.stop();
    await this.dispatcher.stop(graceMs);
    // Egress sinks stop taking work now; their deliveries in flight end with the transport.
    const sinksStopped = Promise.all(this.egresses.map((sink) => sink.stop()));
    await this.transport.close();
    await this.host.stop();
    await sinksStopped;
    // The batches just ended record their failure while the store is still open.
    await this.dispatcher.stop(SETTLE_MS);
    await this.ops.stop();
    await this.cache.close();
    const tracing = this.ops.context.tracing;
    if (tracing) {
      const flushed = await within(
        tracing.shutdown().then(
          () => true,
          (error: unknown) => {
            this.logger.warn(
              { code: "SB_INTERNAL", error: String(error) },
              "exporting the last spans failed",
            );
            return true;
          },
        ),
        TRACE_FLUSH_MS,
      );
      if (!flushed) this.logger.warn({ code: "SB_INTERNAL" }, "gave up exporting the last spans");
    }
    await this.opened.close();
    this.logger.info({}, "switchboard stopped");
  }
}

/** Resolves with the promise's value, or false once `ms` have passed first. */
function within(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function loadConfig(paths: readonly string[], portOffset: number): Promise<ModuleConfig> {
  const result = offsetListenerPorts(await loadModules(paths, allComponentKinds()), portOffset);
  if (!result.ok) {
    throw new SwitchboardError(
      ConfigErrors.INVALID,
      `the configuration is invalid:\n${result.errors.map((diagnostic) => formatDiagnostic(diagnostic)).join("\n")}`,
      { errors: result.errors.length },
    );
  }
  return result.config;
}

function createEgress(
  component: LoadedComponent,
  store: StoreBackend,
  transport: Transport,
  logger: Logger,
): EgressSink | undefined {
  switch (component.kind) {
    case PLAYGROUND_EGRESS_KIND:
      return new PlaygroundEgress(component.spec as PlaygroundEgressSpec, store, logger);
    case WEBHOOK_EGRESS_KIND:
      return new WebhookEgress(
        component.spec as WebhookEgressSpec,
        store,
        transport,
        transportDefaults("default"),
        logger,
      );
    case LOG_EGRESS_KIND:
      return new LogEgress(component.spec as LogEgressSpec, store, logger);
    default:
      return undefined;
  }
}
