import { availableParallelism } from "node:os";
import { z } from "zod";
import { listenAddressShape } from "../io/listen-spec.js";
import { checkOverrideNames, overrides } from "./override-spec.js";
import {
  dataBytes,
  duration,
  hostPattern,
  memoryMb,
  typenamePattern,
  upstreams,
  variables,
  workerCount,
} from "./spec-values.js";

export type { UpstreamSpec, VariableSpec } from "./spec-values.js";

export const MODULE_KIND = "io.switchboard.functions.v1/module";

// Unknown top-level keys are warnings with a "did you mean", as for every other component.
export const moduleSpec = z
  .object({
    /** The module file (TypeScript or JavaScript), relative to the YAML file. */
    module: z.string().min(1),
    /** Typenames routed to this module's StatefulFunctions; default: every typename it registers. */
    functions: z.array(typenamePattern).optional(),
    /** Web function names served; default: every web function the module exports. */
    web: z.array(z.string().min(1)).optional(),
    /** Worker threads; default: the number of cores. */
    workers: workerCount.default(() => availableParallelism()),
    limits: z
      .strictObject({
        /** Heap limit of each worker in MB (worker resourceLimits.maxOldGenerationSizeMb). */
        memory: memoryMb.default(512),
        /** Wall time of one invocation. */
        timeout: duration.default(30_000),
        /** Largest body a function may read into its memory with Data.bytes()/text()/json(). */
        dataBytes: dataBytes.default(32 * 1024 * 1024),
      })
      .default({ memory: 512, timeout: 30_000, dataBytes: 32 * 1024 * 1024 }),
    /** Environment variables the functions see (their whole process.env). */
    env: variables.default({}),
    /** Secrets: never visible to functions, never logged; used in upstream headers. */
    secrets: variables.default({}),
    /** Named upstreams: base URL plus headers (secrets) the host attaches. */
    upstreams: upstreams.default({}),
    outbound: z
      .strictObject({
        /** `scheme://host[:port]` patterns; `*.` prefixes a host wildcard, `:*` any port. Absent: any host. */
        allow: z.array(hostPattern).optional(),
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
    /**
     * Per-function settings merged over the module's, keyed by a web function name, a typename
     * or a namespace pattern (docs/host.md, "Per-function settings").
     */
    overrides,
  })
  .superRefine(checkOverrideNames);
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
