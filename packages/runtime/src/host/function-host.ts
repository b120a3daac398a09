import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Cache } from "../cache/cache.js";
import type { FunctionEndpoint, FunctionRouter, LoadedComponent } from "../config/model.js";
import { transportDefaults } from "../config/transport-defaults.js";
import type { Logger } from "../dispatch/logger.js";
import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { FunctionInvoker } from "../invoke/function-invoker.js";
import type { Transport } from "../transport/types.js";
import { CacheFlights } from "./cache-flights.js";
import { registerCacheHostCalls } from "./cache-host-calls.js";
import { registerCoreHostCalls } from "./core-host-calls.js";
import { DataStore } from "./data-store.js";
import { EmbeddedInvoker } from "./embedded-invoker.js";
import { HostCallTable } from "./host-calls.js";
import { combinedRouter, type EmbeddedBinding } from "./host-router.js";
import { MODULE_KIND, type ModuleSpec, WEB_KIND, type WebListenerSpec } from "./module-spec.js";
import type { ResolvedUpstream } from "./outbound-http.js";
import { OutboundPolicy } from "./outbound-policy.js";
import { redactor, resolveVariable, resolveVariables } from "./variables.js";
import { WebListener, type WebRoute } from "./web-listener.js";
import { WorkerPool } from "./worker-pool.js";

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
}

/** A module once started: its pool and what it serves. */
export interface HostedModule {
  readonly file: string;
  readonly pool: WorkerPool;
}

/**
 * The function host: worker pools for `switchboard.functions.v1/module` components, web
 * listeners for `switchboard.functions.v1/web`, and the router and invoker that make
 * embedded stateful functions look like any other endpoint to the dispatcher.
 */
export class FunctionHost {
  private nextInvocation = 1;
  private readonly data = new DataStore();
  /** getOrSet loads running in any worker of any module. */
  private readonly flights = new CacheFlights();
  readonly modules: HostedModule[] = [];
  readonly listeners: WebListener[] = [];
  private bindings: EmbeddedBinding<WorkerPool>[] = [];
  private routing: ReturnType<typeof combinedRouter<WorkerPool>> | undefined;

  private constructor(private readonly options: HostOptions) {}

  static async start(options: HostOptions): Promise<FunctionHost> {
    const host = new FunctionHost(options);
    try {
      await host.startModules();
      await host.startListeners();
    } catch (error) {
      await host.stop();
      throw error;
    }
    return host;
  }

  /** The router the dispatcher and ingress use: remote endpoints plus embedded typenames. */
  get router(): FunctionRouter {
    this.routing ??= combinedRouter(this.options.remoteRouter, this.bindings);
    return this.routing.router;
  }

  /** Sends embedded typenames to their workers and everything else to `remote`. */
  invoker(remote: FunctionInvoker): FunctionInvoker {
    if (this.bindings.length === 0) return remote;
    this.routing ??= combinedRouter(this.options.remoteRouter, this.bindings);
    const routing = this.routing;
    return new EmbeddedInvoker(
      (typename) => routing.targetOf(typename),
      remote,
      () => this.nextId(),
      (id) => this.data.releaseAll(id),
    );
  }

  /** Data entries held right now (tests and admin views). */
  get heldData(): number {
    return this.data.size;
  }

  async stop(): Promise<void> {
    for (const listener of this.listeners) await listener.stop();
    await Promise.all(this.modules.map((module) => module.pool.stop()));
  }

  private nextId(): number {
    return this.nextInvocation++;
  }

  private async startModules(): Promise<void> {
    const environment = this.options.environment ?? process.env;
    const web = new Map<string, WebRoute & { file: string }>();
    const exact = new Map<string, string>();
    for (const component of this.options.components) {
      if (component.kind !== MODULE_KIND) continue;
      const spec = component.spec as ModuleSpec;
      const where = `${component.source.file}:${component.source.line}:${component.source.col}`;
      const file = resolve(dirname(component.source.file), spec.module);
      if (!existsSync(file)) {
        throw new SwitchboardError(
          HostErrors.MODULE_LOAD_FAILED,
          `${where} module ${spec.module} does not exist (${file})`,
        );
      }
      const env = resolveVariables(spec.env, `${where} env`, environment);
      const secrets = resolveVariables(spec.secrets, `${where} secret`, environment);
      const redact = redactor(Object.values(secrets));
      const upstreams = resolveUpstreams(spec, secrets, where, environment);
      let policy: OutboundPolicy;
      try {
        policy = new OutboundPolicy(spec.outbound.allow, spec.outbound.allowLinkLocal);
      } catch (error) {
        throw new SwitchboardError(
          HostErrors.MODULE_LOAD_FAILED,
          `${where} outbound.allow: ${(error as Error).message}`,
        );
      }
      const calls = registerCoreHostCalls(new HostCallTable(), {
        transport: this.options.transport,
        data: this.data,
        policy,
        upstreams,
        defaultTimeoutMs: spec.outbound.timeout,
        dataBytes: spec.limits.dataBytes,
      });
      const { cache } = this.options;
      if (cache) {
        registerCacheHostCalls(calls, {
          cache: spec.cache ? cache.forApplication(spec.cache.application) : cache,
          data: this.data,
          flights: this.flights,
        });
      }
      const pool = await WorkerPool.start({
        module: spec.module,
        moduleUrl: pathToFileURL(file).href,
        workers: spec.workers,
        memoryMb: spec.limits.memory,
        timeoutMs: spec.limits.timeout,
        env,
        calls,
        logger: this.options.logger.child({ module: spec.module }),
        redact,
      });
      this.modules.push({ file, pool });
      const { manifest } = pool;
      const exported = new Map(manifest.web.map((info) => [info.name, info]));
      for (const name of spec.web ?? [...exported.keys()]) {
        const info = exported.get(name);
        if (!info) {
          throw new SwitchboardError(
            HostErrors.MODULE_LOAD_FAILED,
            `${where} web function ${name} is not exported by ${spec.module} (it exports: ${[...exported.keys()].join(", ") || "none"})`,
          );
        }
        const taken = web.get(name);
        if (taken) {
          throw new SwitchboardError(
            HostErrors.DUPLICATE_BINDING,
            `${where} web function ${name} is already served by ${taken.file}`,
          );
        }
        web.set(name, { pool, info, file });
      }
      for (const pattern of spec.functions ?? manifest.typenames) {
        const slash = pattern.lastIndexOf("/");
        const binding = { namespace: pattern.slice(0, slash), name: pattern.slice(slash + 1) };
        if (binding.name !== "*" && !manifest.typenames.includes(pattern)) {
          throw new SwitchboardError(
            HostErrors.MODULE_LOAD_FAILED,
            `${where} ${pattern} is not registered by ${spec.module} (it registers: ${manifest.typenames.join(", ") || "none"})`,
          );
        }
        const remote = this.options.remoteRouter.tryResolve(
          binding.name === "*" ? `${binding.namespace}/x` : pattern,
        );
        const clash =
          remote &&
          remote.endpoint.functions.name === binding.name &&
          remote.endpoint.functions.namespace === binding.namespace;
        if (clash || exact.has(pattern)) {
          throw new SwitchboardError(
            HostErrors.DUPLICATE_BINDING,
            `${where} ${pattern} is already bound${clash ? ` by the endpoint at ${remote.endpoint.source.file}:${remote.endpoint.source.line}` : ` by ${exact.get(pattern)}`}`,
          );
        }
        exact.set(pattern, where);
        this.bindings.push({
          pattern: binding,
          target: pool,
          endpoint: embeddedEndpoint(binding, spec, file, component),
        });
      }
      this.options.logger.info(
        {
          module: spec.module,
          workers: pool.size,
          typenames: manifest.typenames,
          web: manifest.web.map((info) => info.name),
        },
        "module started",
      );
    }
    this.webRoutes = web;
  }

  private webRoutes = new Map<string, WebRoute>();

  private async startListeners(): Promise<void> {
    for (const component of this.options.components) {
      if (component.kind !== WEB_KIND) continue;
      const listener = new WebListener(
        component.spec as WebListenerSpec,
        this.webRoutes,
        this.data,
        () => this.nextId(),
        this.options.logger.child({ component: "web" }),
      );
      await listener.start();
      this.listeners.push(listener);
    }
    if (this.webRoutes.size > 0 && this.listeners.length === 0) {
      this.options.logger.warn(
        { web: [...this.webRoutes.keys()] },
        `web functions are exported but no ${WEB_KIND} component listens for them`,
      );
    }
  }
}

function resolveUpstreams(
  spec: ModuleSpec,
  secrets: Readonly<Record<string, string>>,
  where: string,
  environment: NodeJS.ProcessEnv,
): Map<string, ResolvedUpstream> {
  const out = new Map<string, ResolvedUpstream>();
  for (const [name, upstream] of Object.entries(spec.upstreams)) {
    const url = resolveVariable(upstream.url, `${where} upstream ${name} url`, environment);
    if (url === undefined) continue;
    const headers: Record<string, string> = {};
    for (const [header, value] of Object.entries(upstream.headers)) {
      if (typeof value === "string") headers[header.toLowerCase()] = value;
      else {
        const secret = secrets[value.secret];
        if (secret === undefined) {
          throw new SwitchboardError(
            HostErrors.MISSING_VARIABLE,
            `${where} upstream ${name} header ${header} uses secret ${value.secret}, which is not declared under secrets (or has no value)`,
          );
        }
        headers[header.toLowerCase()] = value.prefix + secret;
      }
    }
    out.set(name, { url, headers });
  }
  return out;
}

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
