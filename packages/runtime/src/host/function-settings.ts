import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { ModuleSpec } from "./module-spec.js";
import type { ResolvedUpstream } from "./outbound-http.js";
import { OutboundPolicy } from "./outbound-policy.js";
import type { FunctionOverride } from "./override-spec.js";
import type { UpstreamSpec } from "./spec-values.js";
import { resolveVariable, resolveVariables } from "./variables.js";

/** A module's settings, or one function's (its module's with its override on top), resolved at start-up. */
export interface FunctionSettings {
  readonly workers: number;
  readonly memoryMb: number;
  readonly timeoutMs: number;
  /** The setting the time limit comes from, for the timeout error. */
  readonly timeoutSetting: string;
  readonly dataBytes: number;
  readonly env: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, string>>;
  readonly upstreams: ReadonlyMap<string, ResolvedUpstream>;
  readonly policy: OutboundPolicy;
  readonly outboundTimeoutMs: number;
}

/** The module's own settings. `where` is the component's file:line:col, for errors. */
export function moduleSettings(
  spec: ModuleSpec,
  where: string,
  environment: NodeJS.ProcessEnv,
): FunctionSettings {
  const secrets = resolveVariables(spec.secrets, `${where} secret`, environment);
  return {
    workers: spec.workers,
    memoryMb: spec.limits.memory,
    timeoutMs: spec.limits.timeout,
    timeoutSetting: "limits.timeout",
    dataBytes: spec.limits.dataBytes,
    env: resolveVariables(spec.env, `${where} env`, environment),
    secrets,
    upstreams: resolveUpstreams(spec.upstreams, secrets, () => `${where} upstream`, environment),
    policy: outboundPolicy(spec.outbound.allow, spec.outbound.allowLinkLocal, `${where} outbound.allow`),
    outboundTimeoutMs: spec.outbound.timeout,
  };
}

/**
 * One override's settings: limits field by field, env/secrets/upstreams by name, and
 * `outbound.allow` replaced when given. An upstream of the module that uses a secret the
 * override redefines gets the override's value.
 */
export function overrideSettings(
  base: FunctionSettings,
  spec: ModuleSpec,
  name: string,
  override: FunctionOverride,
  where: string,
  environment: NodeJS.ProcessEnv,
): FunctionSettings {
  const at = `${where} overrides.${name}`;
  const secrets = override.secrets
    ? { ...base.secrets, ...resolveVariables(override.secrets, `${at} secret`, environment) }
    : base.secrets;
  const upstreamSpecs = { ...spec.upstreams, ...override.upstreams };
  const upstreams =
    override.secrets || override.upstreams
      ? resolveUpstreams(
          upstreamSpecs,
          secrets,
          (upstream) => (override.upstreams?.[upstream] ? `${at} upstream` : `${where} upstream`),
          environment,
        )
      : base.upstreams;
  const outbound = override.outbound;
  const timeout = override.limits?.timeout;
  return {
    workers: override.workers ?? base.workers,
    memoryMb: override.limits?.memory ?? base.memoryMb,
    timeoutMs: timeout ?? base.timeoutMs,
    timeoutSetting: timeout !== undefined ? `overrides.${name}.limits.timeout` : base.timeoutSetting,
    dataBytes: override.limits?.dataBytes ?? base.dataBytes,
    env: override.env
      ? { ...base.env, ...resolveVariables(override.env, `${at} env`, environment) }
      : base.env,
    secrets,
    upstreams,
    policy:
      outbound?.allow !== undefined || outbound?.allowLinkLocal !== undefined
        ? outboundPolicy(
            outbound.allow ?? spec.outbound.allow,
            outbound.allowLinkLocal ?? spec.outbound.allowLinkLocal,
            `${at} outbound.allow`,
          )
        : base.policy,
    outboundTimeoutMs: outbound?.timeout ?? base.outboundTimeoutMs,
  };
}

function outboundPolicy(allow: string[] | undefined, allowLinkLocal: boolean, what: string): OutboundPolicy {
  try {
    return new OutboundPolicy(allow, allowLinkLocal);
  } catch (error) {
    throw new SwitchboardError(HostErrors.MODULE_LOAD_FAILED, `${what}: ${(error as Error).message}`);
  }
}

function resolveUpstreams(
  specs: Readonly<Record<string, UpstreamSpec>>,
  secrets: Readonly<Record<string, string>>,
  where: (upstream: string) => string,
  environment: NodeJS.ProcessEnv,
): Map<string, ResolvedUpstream> {
  const out = new Map<string, ResolvedUpstream>();
  for (const [name, upstream] of Object.entries(specs)) {
    const what = `${where(name)} ${name}`;
    const url = resolveVariable(upstream.url, `${what} url`, environment);
    if (url === undefined) continue;
    const headers: Record<string, string> = {};
    for (const [header, value] of Object.entries(upstream.headers)) {
      if (typeof value === "string") headers[header.toLowerCase()] = value;
      else {
        const secret = secrets[value.secret];
        if (secret === undefined) {
          throw new SwitchboardError(
            HostErrors.MISSING_VARIABLE,
            `${what} header ${header} uses secret ${value.secret}, which is not declared under secrets (or has no value)`,
          );
        }
        headers[header.toLowerCase()] = value.prefix + secret;
      }
    }
    out.set(name, { url, headers });
  }
  return out;
}
