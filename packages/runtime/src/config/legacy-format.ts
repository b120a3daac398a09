import type { RawComponent } from "./load-modules.js";
import type { YamlPath } from "./yaml-position.js";

/** StateFun's pre-3.1 kind names, mapped to the versioned ones. */
const LEGACY_KINDS: Record<string, string> = {
  "io.statefun.kafka/ingress": "io.statefun.kafka.v1/ingress",
  "io.statefun.kafka/egress": "io.statefun.kafka.v1/egress",
  "io.statefun.kinesis/ingress": "io.statefun.kinesis.v1/ingress",
  "io.statefun.kinesis/egress": "io.statefun.kinesis.v1/egress",
};

/**
 * Maps the legacy single-document format (`version: "3.0"`, `module.meta.type: remote`,
 * `module.spec.{endpoints,ingresses,egresses}`) to the same components the 3.1 format has.
 */
export function legacyComponents(
  value: Record<string, unknown>,
  index: number,
  fail: (message: string, path: YamlPath) => void,
): RawComponent[] {
  const version = String(value.version);
  if (version === "1.0" || version === "2.0") {
    fail(`module format version ${version} is not supported; only 3.0 and the multi-document format are`, [
      "version",
    ]);
    return [];
  }
  if (version !== "3.0") {
    fail(`unrecognized module format version "${version}"; expected "3.0"`, ["version"]);
    return [];
  }
  const module = value.module as { meta?: { type?: unknown }; spec?: Record<string, unknown> } | undefined;
  if (module?.meta?.type !== "remote") {
    fail("a version 3.0 module needs module.meta.type: remote", ["module", "meta", "type"]);
    return [];
  }
  const components: RawComponent[] = [];
  const list = (key: string): unknown[] =>
    Array.isArray(module.spec?.[key]) ? (module.spec?.[key] as unknown[]) : [];
  list("endpoints").forEach((entry, i) => {
    const endpoint = (entry as { endpoint?: { meta?: { kind?: unknown }; spec?: unknown } }).endpoint;
    const base = ["module", "spec", "endpoints", i, "endpoint"];
    if (endpoint?.meta?.kind !== "http") {
      fail(`legacy endpoint ${i} must have meta.kind: http`, [...base, "meta", "kind"]);
      return;
    }
    components.push({
      kind: "io.statefun.endpoints.v1/http",
      spec: endpoint.spec,
      specPath: [...base, "spec"],
      kindPath: [...base, "meta", "kind"],
      index,
    });
  });
  for (const [key, wrapper] of [
    ["ingresses", "ingress"],
    ["egresses", "egress"],
  ] as const) {
    list(key).forEach((entry, i) => {
      const io = (entry as Record<string, { meta?: { type?: unknown; id?: unknown }; spec?: unknown }>)[
        wrapper
      ];
      const base = ["module", "spec", key, i, wrapper];
      const type = typeof io?.meta?.type === "string" ? io.meta.type : undefined;
      const spec =
        typeof io?.spec === "object" && io.spec !== null
          ? { ...(io.spec as object), id: io?.meta?.id }
          : io?.spec;
      components.push({
        kind: type ? (LEGACY_KINDS[type] ?? type) : undefined,
        spec,
        specPath: [...base, "spec"],
        kindPath: [...base, "meta", "type"],
        index,
      });
    });
  }
  return components;
}
