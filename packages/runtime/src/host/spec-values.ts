import { z } from "zod";
import { addressPartProblem } from "../config/address-names.js";
import { parseTimerDuration } from "../config/duration.js";
import { parseHostPattern } from "./outbound-policy.js";

/** The value schemas module YAML shares between a module's settings and its per-function overrides. */

export const duration = z.union([z.string(), z.number()]).transform((value, context) => {
  const parsed = parseTimerDuration(value);
  if (!parsed.ok) {
    context.addIssue({ code: "custom", message: parsed.reason });
    return z.NEVER;
  }
  return parsed.ms;
});

/** A literal value, or one read from the process environment at start-up. */
const variable = z.union(
  [
    z.string(),
    z.strictObject({
      fromEnv: z.string().min(1),
      /** A missing variable is a start-up error (default), unless a default is given. */
      required: z.boolean().default(true),
      default: z.string().optional(),
    }),
  ],
  { error: "expected a string, or { fromEnv: NAME, required?: boolean, default?: string }" },
);
export type VariableSpec = z.output<typeof variable>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const variables = z.record(
  z.string().regex(NAME, "a variable name is letters, digits and _"),
  variable,
);

/** A header the host adds to calls to an upstream: a literal, or a secret with an optional prefix. */
const upstreamHeader = z.union(
  [z.string(), z.strictObject({ secret: z.string().min(1), prefix: z.string().default("") })],
  { error: "expected a string, or { secret: NAME, prefix?: string }" },
);

const upstream = z.strictObject({
  /** Base URL (scheme, host, port, optional path prefix); a call's `url` is appended. */
  url: variable,
  headers: z.record(z.string(), upstreamHeader).default({}),
});
export type UpstreamSpec = z.output<typeof upstream>;

export const upstreams = z.record(z.string(), upstream);

/** A typename `namespace/name`, or every typename of a namespace: `namespace/*`. */
export const TYPENAME_PATTERN = /^[^/\s]+(\/[^/\s]+)*\/([^/\s*]+|\*)$/;

export const typenamePattern = z
  .string()
  .regex(TYPENAME_PATTERN, "a typename `namespace/name` or a namespace pattern `namespace/*`")
  .superRefine((pattern, context) => {
    const slash = pattern.lastIndexOf("/");
    const name = pattern.slice(slash + 1);
    const problem =
      addressPartProblem("namespace", pattern.slice(0, slash)) ??
      (name === "*" ? undefined : addressPartProblem("name", name));
    if (problem) context.addIssue({ code: "custom", message: `"${pattern}": ${problem}` });
  });

/** A web function's name, as the SDK allows it (it is one path segment: never a `/`). */
export const WEB_FUNCTION_NAME = /^[A-Za-z0-9._-]+$/;

/** An `outbound.allow` entry, checked by `switchboard validate` as well as at start-up. */
export const hostPattern = z.string().superRefine((text, context) => {
  try {
    parseHostPattern(text);
  } catch (error) {
    context.addIssue({ code: "custom", message: (error as Error).message });
  }
});

export const workerCount = z.number().int().min(1).max(256);

/** Heap limit of each worker in MB (worker resourceLimits.maxOldGenerationSizeMb). */
export const memoryMb = z.number().int().min(16);

/** Largest body a function may read into its memory with Data.bytes()/text()/json(). */
export const dataBytes = z.number().int().positive();
