import { availableParallelism } from "node:os";
import { z } from "zod";
import { parseDuration } from "../config/duration.js";
import { listenAddressShape } from "../io/listen-spec.js";

export const MODULE_KIND = "io.switchboard.functions.v1/module";

const duration = z.union([z.string(), z.number()]).transform((value, context) => {
  const parsed = parseDuration(value);
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
const variables = z.record(z.string().regex(NAME, "a variable name is letters, digits and _"), variable);

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

const pattern = z
  .string()
  .regex(
    /^[^/\s]+(\/[^/\s]+)*\/([^/\s*]+|\*)$/,
    "a typename `namespace/name` or a namespace pattern `namespace/*`",
  );

// Unknown top-level keys are warnings with a "did you mean", as for every other component.
export const moduleSpec = z.object({
  /** The module file (TypeScript or JavaScript), relative to the YAML file. */
  module: z.string().min(1),
  /** Typenames routed to this module's StatefulFunctions; default: every typename it registers. */
  functions: z.array(pattern).optional(),
  /** Web function names served; default: every web function the module exports. */
  web: z.array(z.string().min(1)).optional(),
  /** Worker threads; default: the number of cores. */
  workers: z
    .number()
    .int()
    .min(1)
    .max(256)
    .default(() => availableParallelism()),
  limits: z
    .strictObject({
      /** Heap limit of each worker in MB (worker resourceLimits.maxOldGenerationSizeMb). */
      memory: z.number().int().min(16).default(512),
      /** Wall time of one invocation. */
      timeout: duration.default(30_000),
      /** Largest body a function may read into its memory with Data.bytes()/text()/json(). */
      dataBytes: z
        .number()
        .int()
        .positive()
        .default(32 * 1024 * 1024),
    })
    .default({ memory: 512, timeout: 30_000, dataBytes: 32 * 1024 * 1024 }),
  /** Environment variables the functions see (their whole process.env). */
  env: variables.default({}),
  /** Secrets: never visible to functions, never logged; used in upstream headers. */
  secrets: variables.default({}),
  /** Named upstreams: base URL plus headers (secrets) the host attaches. */
  upstreams: z.record(z.string(), upstream).default({}),
  outbound: z
    .strictObject({
      /** `scheme://host[:port]` patterns; `*.` prefixes a host wildcard, `:*` any port. Absent: any host. */
      allow: z.array(z.string()).optional(),
      /** Allow link-local (169.254.0.0/16, fe80::/10) and cloud-metadata addresses. */
      allowLinkLocal: z.boolean().default(false),
      /** Default deadline of one outbound call, body included. */
      timeout: duration.default(60_000),
    })
    .default({ allowLinkLocal: false, timeout: 60_000 }),
  /**
   * The functions' cache: by default the runtime's configured application scope, shared by
   * every module; `application` gives this module a scope of its own on the same backend.
   */
  cache: z
    .strictObject({
      application: z.string().regex(/^[^/]+$/, "expected a non-empty application name without '/'"),
    })
    .optional(),
  /** Back-pressure per address for embedded stateful functions, as for endpoints. */
  maxNumBatchRequests: z.number().int().default(1000),
});
export type ModuleSpec = z.output<typeof moduleSpec>;

export const WEB_KIND = "io.switchboard.functions.v1/web";

export const webListenerSpec = z.object({
  ...listenAddressShape,
  /** Largest request body read into a function (input bytes/text/json); Data input streams. */
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(32 * 1024 * 1024),
});
export type WebListenerSpec = z.output<typeof webListenerSpec>;
