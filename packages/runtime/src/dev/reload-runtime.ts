import { dirname, resolve, sep } from "node:path";
import { MEMORY_CACHE_KIND, REDIS_CACHE_KIND } from "../cache/cache-kinds.js";
import { allComponentKinds } from "../config/all-component-kinds.js";
import type { LiveConfig } from "../config/live-config.js";
import { formatDiagnostic, loadModules } from "../config/load-modules.js";
import type { LoadedComponent } from "../config/model.js";
import { offsetListenerPorts } from "../config/port-offset.js";
import type { Dispatcher } from "../dispatch/dispatcher.js";
import type { Logger } from "../dispatch/logger.js";
import type { FunctionHost } from "../host/function-host.js";
import type { EgressSink } from "../io/egress-sink.js";
import {
  PLAYGROUND_INGRESS_KIND,
  PlaygroundIngress,
  type PlaygroundIngressSpec,
} from "../io/playground-ingress.js";
import { describeEndpointChanges } from "./describe-changes.js";

/** What a reload may replace; the store, transport and dispatcher are only read. */
export interface ReloadableParts {
  readonly paths: readonly string[];
  /** --port-offset, applied to the reloaded YAML's listen ports as at start. */
  readonly portOffset: number;
  readonly config: LiveConfig;
  readonly host: FunctionHost;
  readonly dispatcher: Dispatcher;
  /** Mutated in place, so the admin API and `runtime.ingresses` see the new set. */
  readonly ingresses: PlaygroundIngress[];
  readonly egresses: EgressSink[];
  /** The dispatcher's egress directory. */
  readonly egressById: Map<string, EgressSink>;
  readonly createEgress: (component: LoadedComponent) => EgressSink | undefined;
  readonly logger: Logger;
}

export type ReloadReport =
  | { readonly ok: true; readonly changes: readonly string[]; readonly ms: number }
  | { readonly ok: false; readonly error: string; readonly ms: number };

/**
 * Re-reads the module YAML and swaps what changed: routes (in one synchronous step, so the
 * dispatcher, invokers and listeners never see half of it), module pools whose spec or files
 * changed, and listeners, ingresses and egresses whose spec changed. A configuration that
 * does not validate, or a module that does not load, changes nothing. The store, queued
 * messages, state, timers and registered specs are never touched; invocations already
 * running finish on the version they started on.
 */
export async function reloadRuntime(
  parts: ReloadableParts,
  changedFiles: readonly string[],
): Promise<ReloadReport> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const loaded = offsetListenerPorts(await loadModules(parts.paths, allComponentKinds()), parts.portOffset);
  if (!loaded.ok) {
    return {
      ok: false,
      error: loaded.errors.map((error) => formatDiagnostic(error)).join("\n"),
      ms: elapsed(),
    };
  }
  const next = loaded.config;
  const previous = parts.config.snapshot;
  // Module YAML is compared by content below; only code changes make a module's pool stale.
  const changed = changedFiles.map((file) => resolve(file)).filter((file) => !/\.ya?ml$/.test(file));
  const isStale = (moduleFile: string) => {
    const dir = dirname(moduleFile) + sep;
    return changed.some((file) => file === moduleFile || file.startsWith(dir));
  };
  const egressPlan = planEgresses(parts, previous.components, next.components);
  if (typeof egressPlan === "string") return { ok: false, error: egressPlan, ms: elapsed() };
  let staged: Awaited<ReturnType<FunctionHost["prepareReload"]>>;
  try {
    staged = await parts.host.prepareReload(next.components, next.router, isStale);
  } catch (error) {
    return { ok: false, error: (error as Error).message, ms: elapsed() };
  }
  // One synchronous step: routes, embedded targets and web routes change together.
  parts.config.replace(next);
  staged.commit();

  const changes = describeEndpointChanges(previous.endpoints, next.endpoints);
  for (const file of staged.started) changes.push(`module ${file} (new workers)`);
  for (const file of staged.retired) {
    if (!staged.started.includes(file)) changes.push(`module ${file} removed`);
  }
  const cacheOf = (components: readonly LoadedComponent[]) =>
    JSON.stringify(
      components.filter((c) => c.kind === MEMORY_CACHE_KIND || c.kind === REDIS_CACHE_KIND).map(componentKey),
    );
  if (cacheOf(previous.components) !== cacheOf(next.components)) {
    // The cache holds live entries and connections functions share: only a restart replaces it.
    changes.push("cache settings changed: NOT applied until a restart");
  }
  const problems: string[] = [];
  const attempt = async (what: string, step: () => Promise<void>) => {
    try {
      await step();
    } catch (error) {
      problems.push(`${what}: ${(error as Error).message}`);
    }
  };
  await attempt("web listeners", async () => {
    const { stopped, started } = await parts.host.reloadListeners(next.components);
    changes.push(...describeRestarts("web listener", stopped, started));
  });
  await attempt("egresses", async () => {
    const stopped = new Set(egressPlan.stop.map((sink) => sink.id));
    for (const sink of egressPlan.stop) {
      await sink.stop();
      parts.egressById.delete(sink.id);
    }
    for (const sink of egressPlan.start) {
      await sink.start();
      parts.egressById.set(sink.id, sink);
      changes.push(`egress ${sink.id} (${stopped.delete(sink.id) ? "restarted" : "new"})`);
    }
    for (const id of stopped) changes.push(`egress ${id} removed`);
    parts.egresses.splice(0, parts.egresses.length, ...egressPlan.all);
  });
  await attempt("ingresses", async () => {
    const { stopped, started } = await reloadIngresses(parts, previous.components, next.components);
    changes.push(...describeRestarts("ingress", stopped, started));
  });
  if (problems.length > 0) {
    return { ok: false, error: `applied, but:\n${problems.join("\n")}`, ms: elapsed() };
  }
  return { ok: true, changes, ms: elapsed() };
}

interface EgressPlan {
  readonly stop: EgressSink[];
  readonly start: EgressSink[];
  readonly all: EgressSink[];
}

/** Egresses keep running unless their spec changed; returns an error text for a duplicate id. */
function planEgresses(
  parts: ReloadableParts,
  before: readonly LoadedComponent[],
  after: readonly LoadedComponent[],
): EgressPlan | string {
  const kinds = new Set(parts.egresses.map((sink) => sink.kind));
  // Sinks were created in component order, so the n-th egress component made the n-th sink.
  const running = new Map<string, EgressSink>();
  before
    .filter((component) => kinds.has(component.kind))
    .forEach((component, index) => {
      const sink = parts.egresses[index];
      if (sink) running.set(componentKey(component), sink);
    });
  const plan: EgressPlan = { stop: [], start: [], all: [] };
  const ids = new Set<string>();
  for (const component of after) {
    const kept = running.get(componentKey(component));
    const sink = kept ?? parts.createEgress(component);
    if (!sink) continue;
    if (ids.has(sink.id)) {
      const { file, line, col } = component.source;
      return `${file}:${line}:${col} egress ${sink.id} is bound twice`;
    }
    ids.add(sink.id);
    if (kept) running.delete(componentKey(component));
    else plan.start.push(sink);
    plan.all.push(sink);
  }
  plan.stop.push(...running.values());
  return plan;
}

async function reloadIngresses(
  parts: ReloadableParts,
  before: readonly LoadedComponent[],
  after: readonly LoadedComponent[],
): Promise<{ stopped: number; started: string[] }> {
  const keys = before.filter((component) => component.kind === PLAYGROUND_INGRESS_KIND).map(componentKey);
  const wanted = after.filter((component) => component.kind === PLAYGROUND_INGRESS_KIND);
  const wantedKeys = wanted.map(componentKey);
  const result = { stopped: 0, started: [] as string[] };
  // Stop first: a changed ingress usually keeps its port.
  for (let index = parts.ingresses.length - 1; index >= 0; index--) {
    if (wantedKeys.includes(keys[index] as string)) continue;
    await parts.ingresses[index]?.stop();
    parts.ingresses.splice(index, 1);
    keys.splice(index, 1);
    result.stopped++;
  }
  for (const [index, component] of wanted.entries()) {
    if (keys.includes(wantedKeys[index] as string)) continue;
    const ingress = new PlaygroundIngress(
      component.spec as PlaygroundIngressSpec,
      parts.dispatcher,
      parts.logger,
    );
    await ingress.start();
    parts.ingresses.push(ingress);
    keys.push(wantedKeys[index] as string);
    result.started.push(ingress.url);
  }
  return result;
}

/** `ingress http://… (restarted)` per listener started; the ones only stopped are counted. */
function describeRestarts(what: string, stopped: number, started: readonly string[]): string[] {
  const out = started.map((url, index) => `${what} ${url} (${index < stopped ? "restarted" : "new"})`);
  if (stopped > started.length) out.push(`${stopped - started.length} ${what}(s) removed`);
  return out;
}

function componentKey(component: LoadedComponent): string {
  return JSON.stringify([component.kind, component.spec]);
}
