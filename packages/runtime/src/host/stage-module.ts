import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Cache } from "../cache/cache.js";
import type { LoadedComponent } from "../config/model.js";
import type { Logger } from "../dispatch/logger.js";
import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { Transport } from "../transport/types.js";
import type { CacheFlights } from "./cache-flights.js";
import { registerCacheHostCalls } from "./cache-host-calls.js";
import { registerCoreHostCalls } from "./core-host-calls.js";
import type { DataStore } from "./data-store.js";
import { type FunctionSettings, moduleSettings, overrideSettings } from "./function-settings.js";
import { assignTargets, type FunctionTarget, type ModuleTargets } from "./function-targets.js";
import { HostCallTable } from "./host-calls.js";
import type { InvocationProfile } from "./invocation.js";
import type { ModuleSpec } from "./module-spec.js";
import { needsOwnPool } from "./override-spec.js";
import { redactor } from "./variables.js";
import { WorkerPool } from "./worker-pool.js";

/** A pool serving (part of) a module, and the fingerprint a reload compares to keep it. */
export interface HostedModule {
  readonly file: string;
  readonly pool: WorkerPool;
  readonly key: string;
}

/** What the host lends every module it stages. */
export interface StageContext {
  readonly environment: NodeJS.ProcessEnv;
  readonly transport: Transport;
  readonly data: DataStore;
  readonly cache?: Cache | undefined;
  readonly flights: CacheFlights;
  readonly logger: Logger;
  /** A running pool with this fingerprint, which the module may keep instead of starting one. */
  readonly reuse: (key: string) => WorkerPool | undefined;
}

export interface StagedModule {
  readonly file: string;
  /** The component's file:line:col, for errors. */
  readonly where: string;
  readonly spec: ModuleSpec;
  /** The module's own pool first, then one per override that needs its own workers. */
  readonly pools: HostedModule[];
  readonly targets: ModuleTargets;
}

/**
 * Resolves one module component's settings (the module's and each override's), starts the
 * pools it needs that `reuse` cannot give (pushing each onto `started` the moment it runs, so
 * the caller can stop them if anything later fails) and assigns every function its target.
 */
export async function stageModule(
  component: LoadedComponent,
  context: StageContext,
  started: WorkerPool[],
): Promise<StagedModule> {
  const spec = component.spec as ModuleSpec;
  const where = `${component.source.file}:${component.source.line}:${component.source.col}`;
  const file = resolve(dirname(component.source.file), spec.module);
  if (!existsSync(file)) {
    throw new SwitchboardError(
      HostErrors.MODULE_LOAD_FAILED,
      `${where} module ${spec.module} does not exist (${file})`,
    );
  }
  const { environment } = context;
  const base = moduleSettings(spec, where, environment);
  const overrides = Object.entries(spec.overrides).map(([name, override]) => ({
    name,
    ownPool: needsOwnPool(override),
    settings: overrideSettings(base, spec, name, override, where, environment),
  }));
  // Every pool of the module scrubs every secret of the module: what one function fails
  // with may quote a secret it reached through an upstream.
  const redact = redactor([
    ...new Set([base, ...overrides.map((entry) => entry.settings)].flatMap((s) => Object.values(s.secrets))),
  ]);
  const moduleUrl = pathToFileURL(file).href;
  const poolFor = async (settings: FunctionSettings, override?: string): Promise<HostedModule> => {
    const key = JSON.stringify([file, component.spec, override ?? null]);
    const kept = context.reuse(key);
    if (kept) return { file, pool: kept, key };
    const pool = await WorkerPool.start({
      module: spec.module,
      ...(override !== undefined ? { override } : {}),
      moduleUrl,
      workers: settings.workers,
      memoryMb: settings.memoryMb,
      env: settings.env,
      logger: context.logger.child({ module: spec.module, ...(override !== undefined ? { override } : {}) }),
      redact,
    });
    started.push(pool);
    return { file, pool, key };
  };
  const own = overrides.filter((entry) => entry.ownPool);
  const outcomes = await Promise.allSettled([
    poolFor(base),
    ...own.map((entry) => poolFor(entry.settings, entry.name)),
  ]);
  const failure = outcomes.find((outcome) => outcome.status === "rejected");
  if (failure) throw failure.reason;
  const pools = outcomes.map((outcome) => (outcome as PromiseFulfilledResult<HostedModule>).value);
  const [main] = pools as [HostedModule];
  const cache =
    context.cache && spec.cache ? context.cache.forApplication(spec.cache.application) : context.cache;
  const profile = (settings: FunctionSettings) => invocationProfile(settings, cache, context);
  const overrideTargets = new Map<string, FunctionTarget>(
    overrides.map((entry) => {
      const index = own.indexOf(entry);
      const pool = index === -1 ? main.pool : (pools[index + 1] as HostedModule).pool;
      return [entry.name, { pool, profile: profile(entry.settings) }];
    }),
  );
  const targets = assignTargets(
    spec,
    where,
    main.pool.manifest,
    { pool: main.pool, profile: profile(base) },
    overrideTargets,
  );
  for (const { pool } of pools) {
    if (!started.includes(pool)) continue;
    context.logger.info(
      {
        module: spec.module,
        ...(pool.override !== undefined ? { override: pool.override } : {}),
        workers: pool.size,
        typenames: targets.typenames.filter((fn) => fn.target.pool === pool).map((fn) => fn.pattern),
        web: targets.web.filter((fn) => fn.target.pool === pool).map((fn) => fn.name),
      },
      "module started",
    );
  }
  return { file, where, spec, pools, targets };
}

function invocationProfile(
  settings: FunctionSettings,
  cache: Cache | undefined,
  context: StageContext,
): InvocationProfile {
  const calls = registerCoreHostCalls(new HostCallTable(), {
    transport: context.transport,
    data: context.data,
    policy: settings.policy,
    upstreams: settings.upstreams,
    defaultTimeoutMs: settings.outboundTimeoutMs,
    dataBytes: settings.dataBytes,
  });
  if (cache) {
    registerCacheHostCalls(calls, {
      cache,
      data: context.data,
      flights: context.flights,
    });
  }
  return { timeoutMs: settings.timeoutMs, timeoutSetting: settings.timeoutSetting, calls };
}
