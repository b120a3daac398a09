import type { ComponentRegistry } from "../config/component-registry.js";
import { LOG_EGRESS_KIND, logEgressSpec } from "./log-egress.js";
import { PLAYGROUND_EGRESS_KIND, playgroundEgressSpec } from "./playground-egress.js";
import { PLAYGROUND_INGRESS_KIND, playgroundIngressSpec } from "./playground-ingress.js";
import { WEBHOOK_EGRESS_KIND, webhookEgressSpec } from "./webhook-egress.js";

/** Registers the ingress and egress component kinds the runtime can start. */
export function registerIoKinds(registry: ComponentRegistry): ComponentRegistry {
  return registry
    .register({
      kind: PLAYGROUND_INGRESS_KIND,
      schema: playgroundIngressSpec,
      describe: "HTTP ingress: POST /<namespace>/<name>/<id>",
    })
    .register({
      kind: PLAYGROUND_EGRESS_KIND,
      schema: playgroundEgressSpec,
      describe: "HTTP egress: GET /<topic> pops the oldest record",
    })
    .register({
      kind: WEBHOOK_EGRESS_KIND,
      schema: webhookEgressSpec,
      describe: "POSTs each egress record to a URL, at least once",
    })
    .register({
      kind: LOG_EGRESS_KIND,
      schema: logEgressSpec,
      describe: "logs each egress record (development)",
    });
}
