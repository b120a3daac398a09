import type { Cache } from "../cache/cache.js";
import { bindingSource } from "../config/function-router.js";
import type { FunctionEndpoint, FunctionRouter, LoadedComponent } from "../config/model.js";
import { transportDefaults } from "../config/transport-defaults.js";
import type { Logger } from "../dispatch/logger.js";
import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { FunctionInvoker } from "../invoke/function-invoker.js";
import type { Transport } from "../transport/types.js";
import { CacheFlights } from "./cache-flights.js";
import { DataStore } from "./data-store.js";
import { EmbeddedInvoker } from "./embedded-invoker.js";
import type { FunctionTarget } from "./function-targets.js";
import type { HostObserver } from "./host-observer.js";
import { combinedRouter, type EmbeddedBinding } from "./host-router.js";
import { MODULE_KIND, type ModuleSpec, WEB_KIND, type WebListenerSpec } from "./module-spec.js";
import { type HostedModule, stageModule } from "./stage-module.js";
import { WebListener, type WebRoute } from "./web-listener.js";
import type { PoolStats, WorkerPool } from "./worker-pool.js";

export type { HostedModule } from "./stage-module.js";

export interface HostOptions {
  readonly components: readonly LoadedComponent[];
  /** Routes of remote endpoints; the host's router adds the embedded typenames. */
  readonly remoteRouter: FunctionRouter;
  readonly transport: Transport;
  readonly logger: Logger;
  /** The runtime's cache, behind the `cache.*` host calls; without it those calls are unknown. */
  readonly cache?: Cache;
  /** Where `fromEnv` values come from; default process.env. */
  readonly environment?: NodeJS.ProcessEnv;
  /** Told of every answered web request (metrics). */
  readonly observer?: HostObserver;
  /** False keeps web listeners on the main-thread path even where workers could listen; default true. */
  readonly webInWorkers?: boolean;
}

/** Modules, routes and web routes built from components, not yet serving. */
interface StagedModules {
  readonly modules: HostedModule[];
  readonly bindings: EmbeddedBinding<FunctionTarget>[];
  readonly web: Map<string, WebRoute>;
  /** Pools started for this stage (the rest were reused). */
  readonly started: WorkerPool[];
}

/** The running pool a module component may keep, by its file-and-spec fingerprint. */
type ReusePool = (key: string) => WorkerPool | undefined;

/**
 * The function host: worker pools for `io.switchboard.functions.v1/module` components, web
 * listeners for `io.switchboard.functions.v1/web`, and the router and invoker that make
 * embedded stateful functions look like any other endpoint to the dispatcher.
 */
export class FunctionHost {
  private nextInvocation = 1;
  private readonly data = new DataStore();
  /** getOrSet loads running in any worker of any module. */
  private readonly flights = new CacheFlights();
  readonly modules: HostedModule[] = [];
  readonly listeners: WebListener[] = [];
  private bindings: EmbeddedBinding<FunctionTarget>[] = [];
  private routing: ReturnType<typeof combinedRouter<FunctionTarget>> | undefined;
  /** Spec fingerprint of each listener: what a reload compares (pools carry theirs). */
  private listenerKeys: string[] = [];
  /** Pools replaced by a reload, closing once their invocations finish. */
  private readonly retiring = new Set<WorkerPool>();
  /** One object for the life of the host: routes change behind it on reload. */
  private readonly stableRouter: FunctionRouter = {
    tryResolve: (typename) => this.currentRouting().router.tryResolve(typename),
    resolve: (typename) => this.currentRouting().router.resolve(typename),
  };

  private constructor(private readonly options: HostOptions) {}

  static async start(options: HostOptions): Promise<FunctionHost> {
    const host = new FunctionHost(options);
    try {
      host.commitModules(await host.startModules(options.components, options.remoteRouter, () => undefined));
      await host.startListeners();
    } catch (error) {
      await host.stop();
      throw error;
    }
    return host;
  }

  /** The router the dispatcher and ingress use: remote endpoints plus embedded typenames. */
  get router(): FunctionRouter {
    return this.stableRouter;
  }

  /** The endpoint records of the typenames hosted modules bind (admin views). */
  get embeddedEndpoints(): FunctionEndpoint[] {
    return this.bindings.map((binding) => binding.endpoint);
  }

  /** Sends embedded typenames to their workers and everything else to `remote`. */
  invoker(remote: FunctionInvoker): FunctionInvoker {
    return new EmbeddedInvoker(
      (typename) => this.currentRouting().targetOf(typename),
      remote,
      () => this.nextId(),
      (id) => this.data.releaseAll(id),
    );
  }

  /**
   * Busy, idle and queued per module, keyed by the module file as configured (bounded by
   * configuration; modules written the same way are summed). Read at scrape time from the
   * pools serving now and those a reload is retiring, so it follows `switchboard dev`.
   */
  poolStats(): Map<string, PoolStats> {
    const out = new Map<string, PoolStats>();
    const counted = new Set<WorkerPool>();
    const add = (pool: WorkerPool) => {
      if (counted.has(pool)) return;
      counted.add(pool);
      const stats = pool.stats();
      const seen = out.get(pool.module);
      out.set(
        pool.module,
        seen
          ? { busy: seen.busy + stats.busy, idle: seen.idle + stats.idle, queued: seen.queued + stats.queued }
          : stats,
      );
    };
    for (const module of this.modules) add(module.pool);
    for (const pool of this.retiring) add(pool);
    return out;
  }

  /** Data entries held right now (tests and admin views). */
  get heldData(): number {
    return this.data.size;
  }

  async stop(): Promise<void> {
    for (const listener of this.listeners) await listener.stop();
    await Promise.all(this.modules.map((module) => module.pool.stop()));
    const retiring = [...this.retiring];
    this.retiring.clear();
    await Promise.all(retiring.map((pool) => pool.stop()));
  }

  /**
   * Starts what `components` needs that is not running yet (a module whose spec changed, or
   * whose files `isStale` says changed, gets a new pool) and checks it all loads and binds;
   * nothing serves it until `commit` (synchronous, so routes change in one step). On failure
   * the new pools are closed and the host is as it was.
   */
  async prepareReload(
    components: readonly LoadedComponent[],
    remoteRouter: FunctionRouter,
    isStale: (moduleFile: string) => boolean,
  ): Promise<{ started: string[]; retired: string[]; commit(): void }> {
    const running = new Map<string, WorkerPool>();
    for (const module of this.modules) {
      if (!isStale(module.file)) running.set(module.key, module.pool);
    }
    const staged = await this.startModules(components, remoteRouter, (key) => running.get(key));
    const kept = new Set(staged.modules.map((module) => module.pool));
    const retired = this.modules.filter((module) => !kept.has(module.pool));
    const fileOf = (pool: WorkerPool) => staged.modules.find((module) => module.pool === pool)?.file ?? "";
    // A module with overrides has several pools: each file is named once.
    return {
      started: [...new Set(staged.started.map(fileOf))],
      retired: [...new Set(retired.map((module) => module.file))],
      commit: () => {
        this.commitModules(staged);
        for (const module of retired) this.retire(module.pool);
      },
    };
  }

  /**
   * Restarts the web listeners whose spec changed (and starts new ones); the rest keep
   * serving. Returns how many were stopped and the URLs of those started.
   */
  async reloadListeners(
    components: readonly LoadedComponent[],
  ): Promise<{ stopped: number; started: string[] }> {
    const wanted = components.filter((component) => component.kind === WEB_KIND);
    const wantedKeys = wanted.map((component) => JSON.stringify(component.spec));
    const result = { stopped: 0, started: [] as string[] };
    // Stop first: a changed listener usually keeps its port.
    for (let index = this.listeners.length - 1; index >= 0; index--) {
      if (wantedKeys.includes(this.listenerKeys[index] as string)) continue;
      await this.listeners[index]?.stop();
      this.listeners.splice(index, 1);
      this.listenerKeys.splice(index, 1);
      result.stopped++;
    }
    // Kept listeners follow the new routes (on the worker path, maybe to another pool's workers).
    for (const listener of this.listeners) await listener.routesChanged();
    for (const [index, component] of wanted.entries()) {
      if (this.listenerKeys.includes(wantedKeys[index] as string)) continue;
      result.started.push((await this.startListener(component)).url);
    }
    return result;
  }

  private currentRouting(): ReturnType<typeof combinedRouter<FunctionTarget>> {
    this.routing ??= combinedRouter(this.options.remoteRouter, this.bindings);
    return this.routing;
  }

  private commitModules(staged: StagedModules): void {
    this.modules.splice(0, this.modules.length, ...staged.modules);
    this.bindings = staged.bindings;
    this.routing = undefined;
    // Listeners hold this map: refilled in place, in one synchronous step.
    this.webRoutes.clear();
    for (const [name, route] of staged.web) this.webRoutes.set(name, route);
  }

  /** Lets the invocations already on a replaced pool finish, then closes it. */
  private retire(pool: WorkerPool): void {
    this.retiring.add(pool);
    void (async () => {
      const deadline = Date.now() + RETIRE_DEADLINE_MS;
      // Idle for a while, not just once: a web request may have picked its route just
      // before the swap and still be reading its body.
      let idleSince = Date.now();
      while (this.retiring.has(pool) && Date.now() < deadline) {
        if (pool.inFlight > 0) idleSince = Date.now();
        else if (Date.now() - idleSince >= RETIRE_IDLE_MS) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      if (this.retiring.delete(pool)) await pool.stop();
    })();
  }

  private nextId(): number {
    return this.nextInvocation++;
  }

  private async startModules(
    components: readonly LoadedComponent[],
    remoteRouter: FunctionRouter,
    reuse: ReusePool,
  ): Promise<StagedModules> {
    const staged: StagedModules = { modules: [], bindings: [], web: new Map(), started: [] };
    try {
      await this.stageModules(components, remoteRouter, reuse, staged);
    } catch (error) {
      await Promise.all(staged.started.map((pool) => pool.stop()));
      throw error;
    }
    return staged;
  }

  private async stageModules(
    components: readonly LoadedComponent[],
    remoteRouter: FunctionRouter,
    reuse: ReusePool,
    staged: StagedModules,
  ): Promise<void> {
    const context = {
      environment: this.options.environment ?? process.env,
      transport: this.options.transport,
      data: this.data,
      cache: this.options.cache,
      flights: this.flights,
      logger: this.options.logger,
      reuse,
    };
    const web = new Map<string, WebRoute & { file: string }>();
    const exact = new Map<string, string>();
    for (const component of components) {
      if (component.kind !== MODULE_KIND) continue;
      const { file, where, spec, pools, targets } = await stageModule(component, context, staged.started);
      staged.modules.push(...pools);
      for (const { name, info, target } of targets.web) {
        const taken = web.get(name);
        if (taken) {
          throw new SwitchboardError(
            HostErrors.DUPLICATE_BINDING,
            `${where} web function ${name} is already served by ${taken.file}`,
          );
        }
        web.set(name, { ...target, info, file });
      }
      for (const { pattern, target } of targets.typenames) {
        const slash = pattern.lastIndexOf("/");
        const binding = { namespace: pattern.slice(0, slash), name: pattern.slice(slash + 1) };
        const remote = remoteRouter.tryResolve(binding.name === "*" ? `${binding.namespace}/x` : pattern);
        const clash =
          remote &&
          remote.endpoint.functions.name === binding.name &&
          remote.endpoint.functions.namespace === binding.namespace;
        if (clash || exact.has(pattern)) {
          throw new SwitchboardError(
            HostErrors.DUPLICATE_BINDING,
            `${where} ${pattern} is already bound${clash ? ` by the endpoint at ${bindingSource(remote.endpoint).file}:${bindingSource(remote.endpoint).line}` : ` by ${exact.get(pattern)}`}`,
          );
        }
        exact.set(pattern, where);
        staged.bindings.push({
          pattern: binding,
          target,
          endpoint: embeddedEndpoint(binding, spec, file, component),
        });
      }
    }
    for (const [name, route] of web) staged.web.set(name, route);
  }

  private readonly webRoutes = new Map<string, WebRoute>();

  private async startListeners(): Promise<void> {
    for (const component of this.options.components) {
      if (component.kind === WEB_KIND) await this.startListener(component);
    }
    if (this.webRoutes.size > 0 && this.listeners.length === 0) {
      this.options.logger.warn(
        { web: [...this.webRoutes.keys()] },
        `web functions are exported but no ${WEB_KIND} component listens for them`,
      );
    }
  }

  private async startListener(component: LoadedComponent): Promise<WebListener> {
    const listener = new WebListener(
      component.spec as WebListenerSpec,
      this.webRoutes,
      this.data,
      () => this.nextId(),
      this.options.logger.child({ component: "web" }),
      this.options.observer,
      this.options.environment,
      this.options.webInWorkers ?? true,
    );
    await listener.start();
    this.listeners.push(listener);
    this.listenerKeys.push(JSON.stringify(component.spec));
    return listener;
  }
}

/** How long a replaced pool's invocations may take to finish before it is closed anyway. */
const RETIRE_DEADLINE_MS = 60_000;
/** How long a replaced pool must have had nothing running before it is closed. */
const RETIRE_IDLE_MS = 500;

function embeddedEndpoint(
  pattern: { namespace: string; name: string },
  spec: ModuleSpec,
  file: string,
  component: LoadedComponent,
): FunctionEndpoint {
  return {
    // Embedded functions speak the v2 endpoint's protocol, minus HTTP.
    kind: "io.statefun.endpoints.v2/http",
    functions: pattern,
    urlPathTemplate: `embedded:${file}`,
    maxNumBatchRequests: spec.maxNumBatchRequests <= 0 ? Number.POSITIVE_INFINITY : spec.maxNumBatchRequests,
    transport: transportDefaults("default"),
    source: component.source,
  };
}
