import { endpointLabel } from "../config/endpoint-label.js";
import { redactUrls } from "../dispatch/logger.js";
import type { AdminContext } from "./admin-context.js";

/** Endpoints with their effective settings (defaults filled in) and the known function types. */
export function functionsView(context: AdminContext): unknown {
  const { router, dispatcher, egresses } = context;
  const specs = dispatcher.registeredSpecs();
  return {
    endpoints: context.endpoints().map((endpoint) => ({
      name: endpointLabel(endpoint),
      kind: endpoint.kind,
      urlPathTemplate: redactUrls(endpoint.urlPathTemplate),
      maxNumBatchRequests: Number.isFinite(endpoint.maxNumBatchRequests)
        ? endpoint.maxNumBatchRequests
        : null,
      transportType: endpoint.transportType ?? null,
      transport: endpoint.transport,
      source: endpoint.source,
    })),
    functionTypes: [...specs.entries()].map(([fn, states]) => {
      const resolved = router.tryResolve(fn);
      return {
        function: fn,
        endpoint: resolved ? endpointLabel(resolved.endpoint) : null,
        states,
      };
    }),
    egresses: egresses.map((sink) => ({ id: sink.id, kind: sink.kind })),
  };
}
