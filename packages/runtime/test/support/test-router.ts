import type { FunctionEndpoint, FunctionRouter, ResolvedEndpoint } from "../../src/config/model.js";
import type { TransportOptions } from "../../src/transport/types.js";

export const testTransportOptions: TransportOptions = {
  profile: "async",
  callTimeoutMs: 2000,
  connectTimeoutMs: 500,
  poolSize: 16,
  poolTtlMs: 0,
  payloadMaxBytes: 32 * 1024 * 1024,
  retry: {
    retryIoErrors: true,
    retryStatuses: "all-failures",
    retryServerErrors: true,
    retryInvalidResponses: true,
    initialBackoffMs: 2,
    maxBackoffMs: 50,
  },
};

/** A router serving whole namespaces at `baseUrl/{function.name}`, for dispatcher tests. */
export function namespaceRouter(
  namespaces: readonly string[],
  options: { baseUrl?: string; maxNumBatchRequests?: number; transport?: TransportOptions } = {},
): FunctionRouter {
  const baseUrl = options.baseUrl ?? "http://127.0.0.1:1";
  const endpoints = new Map<string, FunctionEndpoint>(
    namespaces.map((namespace) => [
      namespace,
      {
        kind: "io.statefun.endpoints.v2/http",
        functions: { namespace, name: "*" },
        urlPathTemplate: `${baseUrl}/{function.name}`,
        maxNumBatchRequests: options.maxNumBatchRequests ?? 1000,
        transport: options.transport ?? testTransportOptions,
        source: { file: "test", line: 1, col: 1 },
      },
    ]),
  );
  const tryResolve = (typename: string): ResolvedEndpoint | undefined => {
    const slash = typename.lastIndexOf("/");
    const endpoint = endpoints.get(typename.slice(0, slash));
    if (!endpoint) return undefined;
    return { endpoint, url: endpoint.urlPathTemplate.replace("{function.name}", typename.slice(slash + 1)) };
  };
  return routerOf(tryResolve);
}

/** A router serving each namespace from its own function server (`baseUrls[namespace]`). */
export function endpointsRouter(
  baseUrls: Readonly<Record<string, string>>,
  options: { maxNumBatchRequests?: number; transport?: TransportOptions } = {},
): FunctionRouter {
  const routers = Object.entries(baseUrls).map(([namespace, baseUrl]) =>
    namespaceRouter([namespace], { ...options, baseUrl }),
  );
  const tryResolve = (typename: string): ResolvedEndpoint | undefined => {
    for (const router of routers) {
      const resolved = router.tryResolve(typename);
      if (resolved) return resolved;
    }
    return undefined;
  };
  return routerOf(tryResolve);
}

function routerOf(tryResolve: (typename: string) => ResolvedEndpoint | undefined): FunctionRouter {
  return {
    tryResolve,
    resolve(typename) {
      const resolved = tryResolve(typename);
      if (!resolved) throw new Error(`no endpoint for ${typename}`);
      return resolved;
    },
  };
}
