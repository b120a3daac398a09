import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { ConfigDiagnosticCodes as Codes } from "../errors/config-errors.js";
import { parseEndpointUrl } from "../transport/endpoint-url.js";
import type { RetryPolicy, TlsOptions, TransportOptions } from "../transport/types.js";
import { addressPartProblem } from "./address-names.js";
import { parseTimerDuration } from "./duration.js";
import {
  ASYNC_TRANSPORT,
  ENDPOINT_V1_KIND,
  type EndpointV1Spec,
  type EndpointV2Spec,
  OKHTTP_TRANSPORT,
} from "./endpoint-schema.js";
import type { EndpointKind, FunctionEndpoint, FunctionPattern, SourceLocation } from "./model.js";
import { transportDefaults } from "./transport-defaults.js";

export type SpecPath = ReadonlyArray<string | number>;

/** Where semantic problems of one spec are reported (paths are relative to `spec`). */
export interface SpecIssues {
  error(path: SpecPath, code: string, message: string): void;
  warning(path: SpecPath, code: string, message: string): void;
}

/** Keys of the async profile that the default profile reads elsewhere or not at all. */
const ASYNC_ONLY_KEYS = { call: "timeouts.call", connect: "timeouts.connect", pool_ttl: undefined } as const;

/** Turns a shape-checked endpoint spec into the effective model, defaults filled in. */
export function toFunctionEndpoint(
  kind: EndpointKind,
  spec: EndpointV1Spec | EndpointV2Spec,
  source: SourceLocation,
  baseDir: string,
  issues: SpecIssues,
): FunctionEndpoint | undefined {
  const functions = parsePattern(spec.functions, issues);
  checkUrlTemplate(spec.urlPathTemplate, issues);
  const max = spec.maxNumBatchRequests ?? 1000;
  const transport =
    kind === ENDPOINT_V1_KIND
      ? defaultProfile((spec as EndpointV1Spec).timeouts, ["timeouts"], issues)
      : v2Transport((spec as EndpointV2Spec).transport, baseDir, issues);
  if (!functions || !transport) return undefined;
  const transportType = kind === ENDPOINT_V1_KIND ? undefined : (spec as EndpointV2Spec).transport?.type;
  return {
    kind,
    functions,
    urlPathTemplate: spec.urlPathTemplate,
    maxNumBatchRequests: max <= 0 ? Number.POSITIVE_INFINITY : max,
    transport,
    ...(transportType ? { transportType } : {}),
    source,
  };
}

function parsePattern(pattern: string, issues: SpecIssues): FunctionPattern | undefined {
  const parts = pattern.split("/");
  const [namespace = "", name = ""] = parts;
  const problem =
    parts.length !== 2
      ? `"${pattern}" must be exactly one namespace and one name: namespace/name or namespace/*`
      : namespace.length === 0 || name.length === 0
        ? `"${pattern}" has an empty namespace or name`
        : namespace.includes("*")
          ? `"${pattern}" has a * in the namespace; only the name may be *`
          : name !== "*" && name.includes("*")
            ? `"${pattern}" has a partial wildcard; use namespace/* or an exact name`
            : partProblem(pattern, namespace, name);
  if (problem) {
    issues.error(["functions"], Codes.BAD_FUNCTIONS_PATTERN, problem);
    return undefined;
  }
  return { namespace, name };
}

function partProblem(pattern: string, namespace: string, name: string): string | undefined {
  const problem =
    addressPartProblem("namespace", namespace) ??
    (name === "*" ? undefined : addressPartProblem("name", name));
  return problem ? `"${pattern}": ${problem}` : undefined;
}

function checkUrlTemplate(template: string, issues: SpecIssues): void {
  const parsed = parseEndpointUrl(template.replaceAll("{function.name}", "fn"));
  if (!parsed.ok) issues.error(["urlPathTemplate"], Codes.BAD_URL, parsed.reason);
}

function durationAt(value: unknown, path: SpecPath, issues: SpecIssues): number | undefined {
  if (value === undefined) return undefined;
  const parsed = parseTimerDuration(value);
  if (!parsed.ok) {
    issues.error(path, Codes.BAD_DURATION, parsed.reason);
    return undefined;
  }
  return parsed.ms;
}

type Timeouts = { call?: unknown; connect?: unknown; read?: unknown; write?: unknown } | undefined;

/** The default (OkHttp-like) profile: `timeouts: {call, connect, read, write}`. */
function defaultProfile(timeouts: Timeouts, at: SpecPath, issues: SpecIssues): TransportOptions | undefined {
  const base = transportDefaults("default");
  const call = durationAt(timeouts?.call, [...at, "call"], issues) ?? base.callTimeoutMs;
  // A default the user did not write never exceeds the call they did write.
  const connect =
    durationAt(timeouts?.connect, [...at, "connect"], issues) ?? Math.min(base.connectTimeoutMs, call);
  const read =
    durationAt(timeouts?.read, [...at, "read"], issues) ?? Math.min(base.readTimeoutMs ?? call, call);
  const write =
    durationAt(timeouts?.write, [...at, "write"], issues) ?? Math.min(base.writeTimeoutMs ?? call, call);
  const ok = checkOrder({ call, connect, read, write }, at, issues);
  return ok
    ? { ...base, callTimeoutMs: call, connectTimeoutMs: connect, readTimeoutMs: read, writeTimeoutMs: write }
    : undefined;
}

function checkOrder(values: Record<string, number>, at: SpecPath, issues: SpecIssues): boolean {
  let ok = true;
  for (const [name, ms] of Object.entries(values)) {
    if (ms <= 0) {
      issues.error([...at, name], Codes.TIMEOUT_ORDER, `${name} must be greater than 0`);
      ok = false;
    } else if (name !== "call" && ms > (values.call ?? Number.POSITIVE_INFINITY)) {
      issues.error(
        [...at, name],
        Codes.TIMEOUT_ORDER,
        `${name} (${ms} ms) must not be longer than call (${values.call} ms)`,
      );
      ok = false;
    }
  }
  return ok;
}

function v2Transport(
  transport: EndpointV2Spec["transport"],
  baseDir: string,
  issues: SpecIssues,
): TransportOptions | undefined {
  const type = transport?.type;
  if (type !== undefined && type !== OKHTTP_TRANSPORT && type !== ASYNC_TRANSPORT) {
    issues.error(
      ["transport", "type"],
      Codes.UNKNOWN_TRANSPORT,
      `unknown transport type "${type}"; expected ${OKHTTP_TRANSPORT} or ${ASYNC_TRANSPORT}`,
    );
    return undefined;
  }
  let options: TransportOptions | undefined;
  if (type === ASYNC_TRANSPORT) {
    options = asyncProfile(transport, issues);
  } else {
    warnAsyncOnlyKeys(transport, issues);
    options = defaultProfile(transport?.timeouts, ["transport", "timeouts"], issues);
    if (options && transport?.pool_size !== undefined)
      options = { ...options, poolSize: transport.pool_size };
    if (options && transport?.payload_max_bytes !== undefined)
      options = { ...options, payloadMaxBytes: transport.payload_max_bytes };
  }
  if (!options) return undefined;
  const retry = retryPolicy(options.retry, transport?.retry, issues);
  const tls = tlsOptions(transport, baseDir, issues);
  if (!retry || tls === null) return undefined;
  return { ...options, retry, ...(tls ? { tls } : {}), ...(transport?.http2 ? { http2: true } : {}) };
}

/**
 * `call`, `connect` and `pool_ttl` beside `timeouts` belong to the async profile: under the
 * default one they would be silently ignored, so each is still checked as a duration and
 * reported as ignored, naming what the default profile reads instead.
 */
function warnAsyncOnlyKeys(transport: EndpointV2Spec["transport"], issues: SpecIssues): void {
  for (const [key, instead] of Object.entries(ASYNC_ONLY_KEYS)) {
    const value = transport?.[key as keyof typeof ASYNC_ONLY_KEYS];
    if (value === undefined) continue;
    if (durationAt(value, ["transport", key], issues) === undefined) continue;
    issues.warning(
      ["transport", key],
      Codes.IGNORED_KEY,
      `${key} is ignored by the default transport profile${instead ? `, which reads ${instead}` : ""} (set type: ${ASYNC_TRANSPORT} for the async profile)`,
    );
  }
}

/** The async (Netty-like) profile; a `timeouts` block takes precedence over call/connect. */
function asyncProfile(
  transport: EndpointV2Spec["transport"],
  issues: SpecIssues,
): TransportOptions | undefined {
  const base = transportDefaults("async");
  const timeouts = transport?.timeouts;
  const call = timeouts
    ? (durationAt(timeouts.call, ["transport", "timeouts", "call"], issues) ?? 60_000)
    : (durationAt(transport?.call, ["transport", "call"], issues) ?? base.callTimeoutMs);
  const connect = timeouts
    ? (durationAt(timeouts.connect, ["transport", "timeouts", "connect"], issues) ?? Math.min(10_000, call))
    : (durationAt(transport?.connect, ["transport", "connect"], issues) ??
      Math.min(base.connectTimeoutMs, call));
  const poolTtl = durationAt(transport?.pool_ttl, ["transport", "pool_ttl"], issues) ?? base.poolTtlMs;
  const ok = checkOrder({ call, connect }, timeouts ? ["transport", "timeouts"] : ["transport"], issues);
  if (!ok) return undefined;
  return {
    ...base,
    callTimeoutMs: call,
    connectTimeoutMs: connect,
    poolTtlMs: poolTtl,
    poolSize: transport?.pool_size ?? base.poolSize,
    payloadMaxBytes: transport?.payload_max_bytes ?? base.payloadMaxBytes,
  };
}

function retryPolicy(
  base: RetryPolicy,
  retry: NonNullable<EndpointV2Spec["transport"]>["retry"],
  issues: SpecIssues,
): RetryPolicy | undefined {
  if (!retry) return base;
  const initial = durationAt(retry.initial_backoff, ["transport", "retry", "initial_backoff"], issues);
  const max = durationAt(retry.max_backoff, ["transport", "retry", "max_backoff"], issues);
  const statuses =
    base.retryStatuses === "all-failures" || !retry.statuses
      ? base.retryStatuses
      : [...new Set([...base.retryStatuses, ...retry.statuses])];
  return {
    ...base,
    retryStatuses: statuses,
    ...(retry.io_errors !== undefined ? { retryIoErrors: retry.io_errors } : {}),
    ...(retry.invalid_responses !== undefined ? { retryInvalidResponses: retry.invalid_responses } : {}),
    ...(initial !== undefined ? { initialBackoffMs: initial } : {}),
    ...(max !== undefined ? { maxBackoffMs: max } : {}),
  };
}

/** undefined = no TLS options; null = invalid (already reported). */
function tlsOptions(
  transport: EndpointV2Spec["transport"],
  baseDir: string,
  issues: SpecIssues,
): TlsOptions | undefined | null {
  if (!transport) return undefined;
  let valid = true;
  const file = (value: string, key: string): string => {
    if (value.startsWith("classpath:")) {
      issues.error(
        ["transport", key],
        Codes.TLS_FILES,
        `"${value}": classpath: resources exist only on the JVM; give a file path`,
      );
      valid = false;
      return value;
    }
    const path = isAbsolute(value) ? value : resolve(baseDir, value);
    if (!existsSync(path)) {
      issues.error(["transport", key], Codes.TLS_FILES, `file ${path} does not exist`);
      valid = false;
    }
    return path;
  };
  const cas = transport.trust_cacerts === undefined ? [] : [transport.trust_cacerts].flat();
  const trustCaCerts = cas.map((value) => file(value, "trust_cacerts"));
  const clientCert = transport.client_cert ? file(transport.client_cert, "client_cert") : undefined;
  const clientKey = transport.client_key ? file(transport.client_key, "client_key") : undefined;
  const clientKeyPasswordFile = transport.client_key_password
    ? file(transport.client_key_password, "client_key_password")
    : undefined;
  if (Boolean(clientCert) !== Boolean(clientKey)) {
    issues.error(
      ["transport", clientCert ? "client_cert" : "client_key"],
      Codes.TLS_FILES,
      "client_cert and client_key go together: give both or neither",
    );
    valid = false;
  }
  if (!valid) return null;
  if (trustCaCerts.length === 0 && !clientCert && !clientKeyPasswordFile) return undefined;
  return {
    ...(trustCaCerts.length ? { trustCaCerts } : {}),
    ...(clientCert ? { clientCert } : {}),
    ...(clientKey ? { clientKey } : {}),
    ...(clientKeyPasswordFile ? { clientKeyPasswordFile } : {}),
  };
}
