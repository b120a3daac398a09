import { z } from "zod";
import {
  dataBytes,
  duration,
  hostPattern,
  memoryMb,
  TYPENAME_PATTERN,
  upstreams,
  variables,
  WEB_FUNCTION_NAME,
  workerCount,
} from "./spec-values.js";

/**
 * One function's settings over its module's (docs/host.md, "Per-function settings"). Every
 * key is optional: what is absent is the module's. `memory`, `env` and `workers` shape the
 * worker threads, so setting any of them gives the function a pool of its own.
 */
export const functionOverride = z.strictObject({
  limits: z
    .strictObject({
      memory: memoryMb.optional(),
      timeout: duration.optional(),
      dataBytes: dataBytes.optional(),
    })
    .optional(),
  /** Merged by name over the module's `env`. */
  env: variables.optional(),
  /** Merged by name over the module's `secrets`. */
  secrets: variables.optional(),
  /** Merged by name over the module's `upstreams`. */
  upstreams: upstreams.optional(),
  outbound: z
    .strictObject({
      /** Replaces the module's list when given. */
      allow: z.array(hostPattern).optional(),
      allowLinkLocal: z.boolean().optional(),
      timeout: duration.optional(),
    })
    .optional(),
  /** Worker threads of the function's own pool; default: the module's `workers`. */
  workers: workerCount.optional(),
});
export type FunctionOverride = z.output<typeof functionOverride>;

const overrideName = z.string().refine((name) => WEB_FUNCTION_NAME.test(name) || TYPENAME_PATTERN.test(name));

export const overrides = z
  .record(overrideName, functionOverride, {
    error: (issue) =>
      issue.code === "invalid_key"
        ? "an override is named by a web function name, a typename `namespace/name` or a namespace pattern `namespace/*`"
        : undefined,
  })
  .default({});

/** Whether an override changes what its workers are (heap, process.env, count), not only host-side settings. */
export function needsOwnPool(override: FunctionOverride): boolean {
  return (
    override.workers !== undefined || override.limits?.memory !== undefined || override.env !== undefined
  );
}

/**
 * What can be checked without loading the module: an override must name something the
 * module's own `web` / `functions` lists (when given) route to it.
 */
export function checkOverrideNames(
  spec: { overrides: Record<string, unknown>; web?: string[] | undefined; functions?: string[] | undefined },
  context: z.core.$RefinementCtx,
): void {
  for (const name of Object.keys(spec.overrides)) {
    const isWeb = !name.includes("/");
    const listed = isWeb ? spec.web : spec.functions;
    if (listed === undefined) continue;
    const served = isWeb ? listed.includes(name) : coveredBy(name, listed);
    if (served) continue;
    context.addIssue({
      code: "custom",
      path: ["overrides", name],
      message: `${name} is not among this module's ${isWeb ? "web" : "functions"} (${listed.join(", ") || "none"}), so no invocation would use this override`,
    });
  }
}

/** Whether a typename or namespace pattern names something one of `patterns` routes. */
function coveredBy(name: string, patterns: readonly string[]): boolean {
  const slash = name.lastIndexOf("/");
  const namespace = name.slice(0, slash);
  const wholeNamespace = name.slice(slash + 1) === "*";
  return patterns.some((pattern) => {
    const at = pattern.lastIndexOf("/");
    if (pattern.slice(0, at) !== namespace) return false;
    return wholeNamespace || pattern === name || pattern.slice(at + 1) === "*";
  });
}
