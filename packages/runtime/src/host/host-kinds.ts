import type { ComponentRegistry } from "../config/component-registry.js";
import { MODULE_KIND, moduleSpec, WEB_KIND, webListenerSpec } from "./module-spec.js";

/** Registers the function host's component kinds. */
export function registerHostKinds(registry: ComponentRegistry): ComponentRegistry {
  return registry
    .register({
      kind: MODULE_KIND,
      schema: moduleSpec,
      describe: "TypeScript/JavaScript functions run in the host's worker threads",
    })
    .register({
      kind: WEB_KIND,
      schema: webListenerSpec,
      describe: "HTTP listener for web functions: any method on /functions/<name>[/...]",
    });
}
