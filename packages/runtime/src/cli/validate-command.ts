import type { Command } from "commander";
import { allComponentKinds } from "../config/all-component-kinds.js";
import { formatDiagnostic, loadModules } from "../config/load-modules.js";
import type { FunctionEndpoint } from "../config/model.js";
import { redactUrls, redactUrlsIn } from "../dispatch/logger.js";

/** `switchboard validate FILE|DIR... [--json]`: effective settings, or every error (exit 1). */
export function registerValidateCommand(program: Command): void {
  program
    .command("validate")
    .description("check module YAML and print each binding with its effective settings")
    .argument("<paths...>", "module YAML files or directories")
    .option("--json", "print the effective model as JSON")
    .action(async (paths: string[], flags: { json?: boolean }) => {
      const result = await loadModules(paths, allComponentKinds());
      for (const warning of result.warnings) console.error(formatDiagnostic(warning));
      if (!result.ok) {
        for (const error of result.errors) console.error(formatDiagnostic(error));
        console.error(
          `${result.errors.length} error${result.errors.length === 1 ? "" : "s"}; nothing would start`,
        );
        process.exitCode = 1;
        return;
      }
      const { endpoints, components } = result.config;
      if (flags.json) {
        // What validate prints often ends up in CI logs: never URL credentials or queries.
        console.log(
          JSON.stringify(redactUrlsIn({ endpoints: endpoints.map(effective), components }), null, 2),
        );
        return;
      }
      for (const endpoint of endpoints) console.log(describeEndpoint(endpoint));
      for (const component of components) {
        console.log(
          `${component.kind}  (${component.source.file}:${component.source.line})\n  ${JSON.stringify(redactUrlsIn(component.spec))}`,
        );
      }
      console.log(
        `ok: ${endpoints.length} endpoint${endpoints.length === 1 ? "" : "s"}, ${components.length} other component${components.length === 1 ? "" : "s"}`,
      );
    });
}

function effective(endpoint: FunctionEndpoint) {
  return {
    ...endpoint,
    functions: `${endpoint.functions.namespace}/${endpoint.functions.name}`,
    maxNumBatchRequests: Number.isFinite(endpoint.maxNumBatchRequests)
      ? endpoint.maxNumBatchRequests
      : "unlimited",
  };
}

function describeEndpoint(endpoint: FunctionEndpoint): string {
  const t = endpoint.transport;
  const ms = (value: number | undefined) => (value === undefined ? "call" : `${value} ms`);
  const statuses =
    t.retry.retryStatuses === "all-failures"
      ? "every failure"
      : `I/O, ${t.retry.retryStatuses.join(", ")}${t.retry.retryServerErrors ? ", >= 500" : ""}`;
  return [
    `${endpoint.functions.namespace}/${endpoint.functions.name} -> ${redactUrls(endpoint.urlPathTemplate)}  (${endpoint.source.file}:${endpoint.source.line})`,
    `  kind ${endpoint.kind}, profile ${t.profile}${endpoint.transportType ? ` (${endpoint.transportType})` : ""}`,
    `  timeouts: call ${t.callTimeoutMs} ms, connect ${t.connectTimeoutMs} ms, read ${ms(t.readTimeoutMs)}, write ${ms(t.writeTimeoutMs)}`,
    `  pool: size ${t.poolSize}, ttl ${t.poolTtlMs ? `${t.poolTtlMs} ms` : "none"}; payload_max_bytes ${t.payloadMaxBytes}`,
    `  retries: ${statuses}${t.retry.retryInvalidResponses ? ", invalid responses" : ""}; backoff ${t.retry.initialBackoffMs}..${t.retry.maxBackoffMs} ms`,
    `  maxNumBatchRequests ${Number.isFinite(endpoint.maxNumBatchRequests) ? endpoint.maxNumBatchRequests : "unlimited"}${t.tls ? "; TLS files set" : ""}`,
  ].join("\n");
}
