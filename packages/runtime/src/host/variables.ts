import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { VariableSpec } from "./module-spec.js";

/**
 * Resolves env or secret specs against the process environment. A missing required value
 * is a start-up error naming the variable (never an empty string, never the value).
 */
export function resolveVariable(
  spec: VariableSpec,
  what: string,
  environment: NodeJS.ProcessEnv,
): string | undefined {
  if (typeof spec === "string") return spec;
  const value = environment[spec.fromEnv];
  if (value !== undefined) return value;
  if (spec.default !== undefined) return spec.default;
  if (!spec.required) return undefined;
  throw new SwitchboardError(
    HostErrors.MISSING_VARIABLE,
    `${what} needs the environment variable ${spec.fromEnv}, which is not set`,
    { variable: spec.fromEnv },
  );
}

export function resolveVariables(
  specs: Readonly<Record<string, VariableSpec>>,
  what: string,
  environment: NodeJS.ProcessEnv,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const value = resolveVariable(spec, `${what} ${name}`, environment);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Replaces every occurrence of a secret value in text (logs, error details). */
export function redactor(secrets: readonly string[]): (text: string) => string {
  const values = secrets.filter((value) => value.length >= 4).sort((a, b) => b.length - a.length);
  if (values.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const value of values) out = out.split(value).join("[secret]");
    return out;
  };
}
