import { redactUrls } from "../dispatch/logger.js";
import type { Runtime } from "../runtime.js";

/** What a started runtime serves and where, one line each (run and dev). */
export function printRuntime(runtime: Runtime): void {
  if (runtime.ops.adminUrl) console.log(`admin     ${runtime.ops.adminUrl}/ (metrics: /metrics)`);
  for (const ingress of runtime.ingresses) console.log(`ingress   ${ingress.url}/<namespace>/<name>/<id>`);
  for (const egress of runtime.egresses) console.log(`egress    ${egress.id} (${egress.kind})`);
  for (const endpoint of runtime.config.endpoints) {
    console.log(
      `functions ${endpoint.functions.namespace}/${endpoint.functions.name} -> ${redactUrls(endpoint.urlPathTemplate)}`,
    );
  }
  for (const module of runtime.host.modules) {
    const { pool } = module;
    if (pool.override !== undefined) {
      console.log(`module    ${module.file} overrides.${pool.override} (${pool.size} workers of its own)`);
      continue;
    }
    const { typenames, web } = pool.manifest;
    console.log(
      `module    ${module.file} (${pool.size} workers): ${[...typenames, ...web.map((fn) => `web ${fn.name}`)].join(", ")}`,
    );
  }
  for (const listener of runtime.host.listeners) console.log(`web       ${listener.url}/functions/<name>`);
}
