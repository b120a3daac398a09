import type { FunctionEndpoint } from "../config/model.js";

/** `+ns/name`, `-ns/name` and `~ns/name` (settings changed) for the endpoints a reload changed. */
export function describeEndpointChanges(
  before: readonly FunctionEndpoint[],
  after: readonly FunctionEndpoint[],
): string[] {
  const key = (endpoint: FunctionEndpoint) => `${endpoint.functions.namespace}/${endpoint.functions.name}`;
  // Where it was written does not count as a change.
  const settings = (endpoint: FunctionEndpoint) => JSON.stringify({ ...endpoint, source: undefined });
  const old = new Map(before.map((endpoint) => [key(endpoint), settings(endpoint)]));
  const out: string[] = [];
  for (const endpoint of after) {
    const previous = old.get(key(endpoint));
    if (previous === undefined) out.push(`endpoint +${key(endpoint)}`);
    else if (previous !== settings(endpoint)) out.push(`endpoint ~${key(endpoint)}`);
    old.delete(key(endpoint));
  }
  for (const gone of old.keys()) out.push(`endpoint -${gone}`);
  return out;
}
