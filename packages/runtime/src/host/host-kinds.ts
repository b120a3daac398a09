import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { ComponentRegistry } from "../config/component-registry.js";
import { ConfigDiagnosticCodes } from "../errors/config-errors.js";
import { MODULE_KIND, type ModuleSpec, moduleSpec, WEB_KIND, webListenerSpec } from "./module-spec.js";

/** Registers the function host's component kinds. */
export function registerHostKinds(registry: ComponentRegistry): ComponentRegistry {
  return registry
    .register({
      kind: MODULE_KIND,
      schema: moduleSpec,
      describe: "TypeScript/JavaScript functions run in the host's worker threads",
      check: checkModuleFile,
    })
    .register({
      kind: WEB_KIND,
      schema: webListenerSpec,
      describe: "HTTP listener for web functions: any method on /functions/<name>[/...]",
    });
}

/** The module file must exist where start-up will look for it: beside the YAML. */
function checkModuleFile(spec: ModuleSpec, baseDir: string) {
  const file = resolve(baseDir, spec.module);
  return existsSync(file)
    ? []
    : [
        {
          path: ["module"],
          code: ConfigDiagnosticCodes.MISSING_FILE,
          message: `module ${spec.module} does not exist (${file})`,
        },
      ];
}
