import { ConfigErrors } from "../errors/config-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { FunctionEndpoint, FunctionRouter, ResolvedEndpoint, SourceLocation } from "./model.js";

export interface DuplicateBinding {
  readonly key: string;
  readonly first: SourceLocation;
  readonly second: SourceLocation;
}

/** Function types whose endpoint the router keeps resolved. */
const MAX_RESOLVED = 4096;

/** Exact `ns/name` bindings beat `ns/*`; typenames split at their last '/'. */
export function buildRouter(endpoints: readonly FunctionEndpoint[]): {
  router: FunctionRouter;
  duplicates: DuplicateBinding[];
} {
  const exact = new Map<string, FunctionEndpoint>();
  const namespaces = new Map<string, FunctionEndpoint>();
  const duplicates: DuplicateBinding[] = [];
  for (const endpoint of endpoints) {
    const { namespace, name } = endpoint.functions;
    const [table, key] = name === "*" ? [namespaces, `${namespace}/*`] : [exact, `${namespace}/${name}`];
    const mapKey = name === "*" ? namespace : key;
    const existing = table.get(mapKey);
    if (existing) duplicates.push({ key, first: bindingSource(existing), second: bindingSource(endpoint) });
    else table.set(mapKey, endpoint);
  }
  // Dispatch resolves a function type several times per message: each answer is kept. A
  // wildcard namespace admits any name, so the memo is emptied when it grows past a bound.
  const resolved = new Map<string, ResolvedEndpoint>();
  const tryResolve = (typename: string): ResolvedEndpoint | undefined => {
    const known = resolved.get(typename);
    if (known) return known;
    const slash = typename.lastIndexOf("/");
    if (slash <= 0 || slash === typename.length - 1) return undefined;
    const name = typename.slice(slash + 1);
    const endpoint = exact.get(typename) ?? namespaces.get(typename.slice(0, slash));
    if (!endpoint) return undefined;
    const answer = { endpoint, url: endpoint.urlPathTemplate.replaceAll("{function.name}", name) };
    if (resolved.size >= MAX_RESOLVED) resolved.clear();
    resolved.set(typename, answer);
    return answer;
  };
  return {
    duplicates,
    router: {
      tryResolve,
      resolve(typename) {
        const resolved = tryResolve(typename);
        if (!resolved) {
          throw new SwitchboardError(ConfigErrors.NO_ENDPOINT, `no endpoint for function type ${typename}`, {
            fn: typename,
          });
        }
        return resolved;
      },
    },
  };
}

/** Where an endpoint binds its functions: the `functions:` line when the loader knows it. */
export function bindingSource(endpoint: FunctionEndpoint): SourceLocation {
  return endpoint.functionsSource ?? endpoint.source;
}
