import type { FunctionEndpoint } from "./model.js";

/**
 * How an endpoint is named in metrics, logs and the admin API: its functions pattern as
 * written (`ns/*` or `ns/name`). Bounded by the configuration, never by traffic.
 */
export function endpointLabel(endpoint: FunctionEndpoint): string {
  return `${endpoint.functions.namespace}/${endpoint.functions.name}`;
}
