import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { InvocationProfile } from "./invocation.js";
import type { ModuleSpec } from "./module-spec.js";
import type { WebFunctionInfo } from "./worker/messages.js";
import type { ModuleManifest, WorkerPool } from "./worker-pool.js";

/** Where one function runs: a pool of its module, under the function's own profile. */
export interface FunctionTarget {
  readonly pool: WorkerPool;
  readonly profile: InvocationProfile;
}

/** What one module serves, each function with its target. */
export interface ModuleTargets {
  readonly web: Array<{ name: string; info: WebFunctionInfo; target: FunctionTarget }>;
  /** Typename patterns as bound: the module's, plus exact typenames an override splits off a `ns/*`. */
  readonly typenames: Array<{ pattern: string; target: FunctionTarget }>;
}

/**
 * Gives each function the module serves its target: an exact override (web name or
 * typename) first, then a namespace override, then the module's own. Checks that every
 * `web` / `functions` entry exists in the module and that every override names a function
 * served, so a typo fails start-up instead of silently running with the module's settings.
 */
export function assignTargets(
  spec: ModuleSpec,
  where: string,
  manifest: ModuleManifest,
  moduleTarget: FunctionTarget,
  overrideTargets: ReadonlyMap<string, FunctionTarget>,
): ModuleTargets {
  const used = new Set<string>();
  const targetFor = (...names: string[]): FunctionTarget => {
    for (const name of names) {
      const target = overrideTargets.get(name);
      if (target) {
        used.add(name);
        return target;
      }
    }
    return moduleTarget;
  };

  const exported = new Map(manifest.web.map((info) => [info.name, info]));
  const web: ModuleTargets["web"] = [];
  for (const name of spec.web ?? exported.keys()) {
    const info = exported.get(name);
    if (!info) {
      throw new SwitchboardError(
        HostErrors.MODULE_LOAD_FAILED,
        `${where} web function ${name} is not exported by ${spec.module} (it exports: ${[...exported.keys()].join(", ") || "none"})`,
      );
    }
    web.push({ name, info, target: targetFor(name) });
  }

  const patterns = spec.functions ?? manifest.typenames;
  const typenames: ModuleTargets["typenames"] = [];
  for (const pattern of patterns) {
    const { namespace, name } = split(pattern);
    if (name !== "*" && !manifest.typenames.includes(pattern)) {
      throw new SwitchboardError(
        HostErrors.MODULE_LOAD_FAILED,
        `${where} ${pattern} is not registered by ${spec.module} (it registers: ${manifest.typenames.join(", ") || "none"})`,
      );
    }
    typenames.push({
      pattern,
      target: name === "*" ? targetFor(pattern) : targetFor(pattern, `${namespace}/*`),
    });
    if (name !== "*") continue;
    // A typename of its own under a namespace the module serves whole: bound exactly, which
    // wins over the namespace binding.
    for (const typename of manifest.typenames) {
      if (split(typename).namespace !== namespace || patterns.includes(typename)) continue;
      if (overrideTargets.has(typename)) typenames.push({ pattern: typename, target: targetFor(typename) });
    }
  }

  const unknown = [...overrideTargets.keys()].find((name) => !used.has(name));
  if (unknown !== undefined) {
    const served = unknown.includes("/")
      ? `typenames it serves: ${patterns.join(", ") || "none"}`
      : `web functions it serves: ${web.map((fn) => fn.name).join(", ") || "none"}`;
    throw new SwitchboardError(
      HostErrors.MODULE_LOAD_FAILED,
      `${where} overrides.${unknown} names no function ${spec.module} serves (${served})`,
    );
  }
  return { web, typenames };
}

function split(pattern: string): { namespace: string; name: string } {
  const slash = pattern.lastIndexOf("/");
  return { namespace: pattern.slice(0, slash), name: pattern.slice(slash + 1) };
}
