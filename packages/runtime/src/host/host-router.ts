import type { FunctionEndpoint, FunctionPattern, FunctionRouter, ResolvedEndpoint } from "../config/model.js";

/** A typename pattern served by a module, with the endpoint record the dispatcher reads. */
export interface EmbeddedBinding<Target> {
  readonly pattern: FunctionPattern;
  readonly endpoint: FunctionEndpoint;
  readonly target: Target;
}

/**
 * Routes across remote endpoints and embedded modules together: an exact `ns/name` beats
 * `ns/*` wherever each is bound (the loader and the host refuse the same key twice).
 */
export function combinedRouter<Target>(
  remote: FunctionRouter,
  bindings: readonly EmbeddedBinding<Target>[],
): { router: FunctionRouter; targetOf(typename: string): Target | undefined } {
  const exact = new Map<string, EmbeddedBinding<Target>>();
  const namespaces = new Map<string, EmbeddedBinding<Target>>();
  for (const binding of bindings) {
    const { namespace, name } = binding.pattern;
    if (name === "*") namespaces.set(namespace, binding);
    else exact.set(`${namespace}/${name}`, binding);
  }
  const embeddedFor = (typename: string): EmbeddedBinding<Target> | undefined => {
    const slash = typename.lastIndexOf("/");
    if (slash <= 0 || slash === typename.length - 1) return undefined;
    const hit = exact.get(typename);
    if (hit) return hit;
    const remoteHit = remote.tryResolve(typename);
    if (remoteHit && remoteHit.endpoint.functions.name !== "*") return undefined;
    return namespaces.get(typename.slice(0, slash));
  };
  const tryResolve = (typename: string): ResolvedEndpoint | undefined => {
    const binding = embeddedFor(typename);
    if (binding) return { endpoint: binding.endpoint, url: binding.endpoint.urlPathTemplate };
    return remote.tryResolve(typename);
  };
  return {
    targetOf: (typename) => embeddedFor(typename)?.target,
    router: {
      tryResolve,
      resolve(typename) {
        return tryResolve(typename) ?? remote.resolve(typename);
      },
    },
  };
}
