import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { type Document, LineCounter, parseAllDocuments, visit } from "yaml";
import type { z } from "zod";
import { ConfigDiagnosticCodes as Codes } from "../errors/config-errors.js";
import { type ComponentRegistry, defaultRegistry } from "./component-registry.js";
import { didYouMean } from "./did-you-mean.js";
import { toFunctionEndpoint } from "./endpoint-model.js";
import { ENDPOINT_V1_KIND, ENDPOINT_V2_KIND, KNOWN_KEYS } from "./endpoint-schema.js";
import { buildRouter } from "./function-router.js";
import { legacyComponents } from "./legacy-format.js";
import type {
  ConfigDiagnostic,
  EndpointKind,
  FunctionEndpoint,
  LoadedComponent,
  ModuleConfig,
  SourceLocation,
} from "./model.js";
import { type ListenSite, listenSiteOf, portClashes } from "./port-clash.js";
import { unsupportedKindMessage } from "./unsupported-kinds.js";
import { keyPositionOf, positionOf, type YamlPath } from "./yaml-position.js";

export type LoadResult =
  | { ok: true; config: ModuleConfig; warnings: ConfigDiagnostic[] }
  | { ok: false; errors: ConfigDiagnostic[]; warnings: ConfigDiagnostic[] };

/** One `{kind, spec}` found in a file, with where its spec lives in the YAML document. */
export interface RawComponent {
  readonly kind: unknown;
  readonly spec: unknown;
  readonly specPath: YamlPath;
  readonly kindPath: YamlPath;
  readonly index: number;
}

interface Sink {
  readonly diagnostics: ConfigDiagnostic[];
  readonly endpoints: FunctionEndpoint[];
  readonly components: LoadedComponent[];
  readonly listeners: ListenSite[];
}

/** Reads module YAML files (and every .yaml/.yml file of a directory, in name order). */
export async function loadModules(
  paths: readonly string[],
  registry: ComponentRegistry = defaultRegistry(),
): Promise<LoadResult> {
  const sink: Sink = { diagnostics: [], endpoints: [], components: [], listeners: [] };
  const files: string[] = [];
  for (const path of paths) {
    try {
      if (statSync(path).isDirectory()) {
        files.push(
          ...readdirSync(path)
            .filter((name) => [".yaml", ".yml"].includes(extname(name)))
            .sort()
            .map((name) => join(path, name)),
        );
      } else {
        files.push(path);
      }
    } catch (error) {
      sink.diagnostics.push(
        fileError(path, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`),
      );
    }
  }
  if (files.length === 0 && sink.diagnostics.length === 0) {
    sink.diagnostics.push({
      severity: "error",
      code: Codes.NO_FILES,
      message: "no module YAML files were given or found",
      source: { file: paths.join(", "), line: 1, col: 1 },
    });
  }
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      sink.diagnostics.push(
        fileError(file, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`),
      );
      continue;
    }
    readText(text, file, registry, sink);
  }
  return finish(sink);
}

/** Reads module YAML given as text (tests, `switchboard dev`). */
export function loadModuleText(
  text: string,
  file: string,
  registry: ComponentRegistry = defaultRegistry(),
): LoadResult {
  const sink: Sink = { diagnostics: [], endpoints: [], components: [], listeners: [] };
  readText(text, file, registry, sink);
  return finish(sink);
}

export function formatDiagnostic(diagnostic: ConfigDiagnostic): string {
  const { source, document, path } = diagnostic;
  const where = `${source.file}:${source.line}:${source.col}`;
  const component = document
    ? ` [document ${document.index + 1}${document.kind ? ` ${document.kind}` : ""}]`
    : "";
  return `${where}${component} ${diagnostic.severity}: ${path ? `${path}: ` : ""}${diagnostic.message}`;
}

function finish(sink: Sink): LoadResult {
  const { router, duplicates } = buildRouter(sink.endpoints);
  for (const duplicate of duplicates) {
    sink.diagnostics.push({
      severity: "error",
      code: Codes.DUPLICATE_BINDING,
      message: `${duplicate.key} is bound twice: first at ${describe(duplicate.first)}, again here`,
      source: duplicate.second,
      path: "spec.functions",
    });
  }
  for (const { site, first } of portClashes(sink.listeners)) {
    sink.diagnostics.push({
      severity: "error",
      code: Codes.PORT_CLASH,
      message: `port ${site.port} is already taken by ${first.kind} at ${describe(first.source)}; two listeners cannot share a port`,
      source: site.source,
      document: { index: site.documentIndex, kind: site.kind },
      path: "spec.port",
    });
  }
  const errors = sink.diagnostics.filter((diagnostic) => diagnostic.severity === "error");
  const warnings = sink.diagnostics.filter((diagnostic) => diagnostic.severity === "warning");
  if (errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, config: { endpoints: sink.endpoints, components: sink.components, router }, warnings };
}

function readText(text: string, file: string, registry: ComponentRegistry, sink: Sink): void {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const documents = Array.isArray(docs) ? docs : [];
  documents.forEach((doc, index) => {
    for (const error of doc.errors) {
      const [line, col] = error.linePos?.[0] ? [error.linePos[0].line, error.linePos[0].col] : [1, 1];
      sink.diagnostics.push({
        severity: "error",
        code: Codes.YAML_SYNTAX,
        message: error.message.split("\n")[0] ?? error.message,
        source: { file, line, col },
        document: { index },
      });
    }
    if (doc.errors.length > 0) return;
    let value: unknown;
    try {
      value = doc.toJS();
    } catch (error) {
      // The yaml library refuses to expand aliases past its limit (an alias bomb).
      sink.diagnostics.push({
        severity: "error",
        code: Codes.YAML_ALIASES,
        message: `${error instanceof Error ? error.message : String(error)}: the document's aliases (*name) expand to too many nodes; write the values out instead`,
        source: firstAliasPosition(doc, lineCounter, file),
        document: { index },
      });
      return;
    }
    if (value === null || value === undefined) return;
    const raw = isLegacy(value)
      ? legacyComponents(value, index, (message, path) =>
          errorAt(doc, lineCounter, file, index, path, Codes.LEGACY_FORMAT, message, sink),
        )
      : [asComponent(value, index)];
    for (const component of raw) readComponent(component, doc, lineCounter, file, registry, sink);
  });
}

function firstAliasPosition(doc: Document, lineCounter: LineCounter, file: string): SourceLocation {
  let offset: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  if (offset === undefined) return positionOf(doc, lineCounter, file, []);
  const { line, col } = lineCounter.linePos(offset);
  return { file, line, col };
}

function isLegacy(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && "version" in value && !("kind" in value);
}

function asComponent(value: unknown, index: number): RawComponent {
  const object =
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  return { kind: object.kind, spec: object.spec, specPath: ["spec"], kindPath: ["kind"], index };
}

function readComponent(
  component: RawComponent,
  doc: Document,
  lineCounter: LineCounter,
  file: string,
  registry: ComponentRegistry,
  sink: Sink,
): void {
  const { kind, spec, index } = component;
  const report = (path: YamlPath, code: string, message: string, severity: "error" | "warning" = "error") => {
    sink.diagnostics.push({
      severity,
      code,
      message,
      source: positionOf(doc, lineCounter, file, path),
      document: { index, ...(typeof kind === "string" ? { kind } : {}) },
      path: path.slice(component.specPath.length - 1).join("."),
    });
  };
  if (typeof kind !== "string" || typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    report(
      typeof kind !== "string" ? component.kindPath : component.specPath,
      Codes.NOT_A_COMPONENT,
      `a component is an object with a "kind" (a typename) and a "spec" (an object); found ${typeof kind !== "string" ? `kind ${JSON.stringify(kind)}` : `spec ${JSON.stringify(spec)}`}`,
    );
    return;
  }
  const definition = registry.get(kind);
  const unsupported = definition ? undefined : unsupportedKindMessage(kind);
  if (unsupported) {
    report(component.kindPath, Codes.UNSUPPORTED_KIND, unsupported);
    return;
  }
  if (!definition) {
    const guess = didYouMean(kind, registry.kinds());
    report(
      component.kindPath,
      Codes.UNKNOWN_KIND,
      `unknown kind "${kind}"${guess ? ` (did you mean ${guess}?)` : ""}; known kinds: ${registry.kinds().join(", ")}`,
    );
    return;
  }
  warnUnknownKeys(
    definition.schema,
    kind,
    spec as Record<string, unknown>,
    component.specPath,
    doc,
    lineCounter,
    file,
    index,
    sink,
  );
  const parsed = definition.schema.safeParse(spec);
  const source = positionOf(doc, lineCounter, file, component.specPath.slice(0, -1));
  const isEndpoint = kind === ENDPOINT_V1_KIND || kind === ENDPOINT_V2_KIND;
  const semanticCheck = (data: unknown) =>
    toFunctionEndpoint(kind as EndpointKind, data as never, source, dirname(file), {
      error: (path, code, message) => report([...component.specPath, ...path], code, message),
      warning: (path, code, message) => report([...component.specPath, ...path], code, message, "warning"),
    });
  if (!parsed.success) {
    const issues = parsed.error.issues;
    for (const issue of issues) {
      report(
        [...component.specPath, ...(issue.path as Array<string | number>)],
        Codes.INVALID_VALUE,
        describeIssue(issue, spec),
      );
    }
    // Keep looking for the other mistakes: check what remains once the broken fields are gone.
    if (isEndpoint) {
      const rest = definition.schema.safeParse(
        withoutPaths(
          spec,
          issues.map((issue) => issue.path as Array<string | number>),
        ),
      );
      if (rest.success) semanticCheck(rest.data);
    }
    return;
  }
  if (isEndpoint) {
    const endpoint = semanticCheck(parsed.data);
    const functionsSource = positionOf(doc, lineCounter, file, [...component.specPath, "functions"]);
    if (endpoint) sink.endpoints.push({ ...endpoint, functionsSource });
    return;
  }
  const problems = definition.check?.(parsed.data, dirname(file)) ?? [];
  for (const problem of problems)
    report([...component.specPath, ...problem.path], problem.code, problem.message);
  if (problems.length > 0) return;
  const listen = listenSiteOf(parsed.data);
  if (listen) {
    const portAt = positionOf(doc, lineCounter, file, [...component.specPath, "port"]);
    sink.listeners.push({ ...listen, kind, source: portAt, documentIndex: index });
  }
  sink.components.push({ kind, spec: parsed.data, source });
}

function describeIssue(issue: z.core.$ZodIssue, spec: unknown): string {
  if (issue.code === "invalid_type") {
    const found = valueAt(spec, issue.path as Array<string | number>);
    return found === undefined
      ? `required, expected ${issue.expected}`
      : `expected ${issue.expected}, found ${JSON.stringify(found)}`;
  }
  return issue.message;
}

function withoutPaths(value: unknown, paths: ReadonlyArray<ReadonlyArray<string | number>>): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  for (const path of paths) {
    let parent: unknown = copy;
    for (const key of path.slice(0, -1))
      parent = (parent as Record<string | number, unknown> | undefined)?.[key];
    const last = path.at(-1);
    if (last !== undefined && typeof parent === "object" && parent !== null) {
      delete (parent as Record<string | number, unknown>)[last];
    }
  }
  return copy;
}

function valueAt(value: unknown, path: ReadonlyArray<string | number>): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/** Unknown keys are accepted, as StateFun does, but reported with a "did you mean". */
function warnUnknownKeys(
  schema: z.ZodType,
  kind: string,
  spec: Record<string, unknown>,
  specPath: YamlPath,
  doc: Document,
  lineCounter: LineCounter,
  file: string,
  index: number,
  sink: Sink,
): void {
  const levels: Array<[YamlPath, Record<string, unknown>, readonly string[]]> = [];
  const shape = (schema as { shape?: Record<string, unknown> }).shape;
  const topKeys = KNOWN_KEYS[`${kind}:spec`] ?? (shape ? Object.keys(shape) : undefined);
  if (!topKeys) return;
  levels.push([specPath, spec, topKeys]);
  for (const nested of ["timeouts", "transport"]) {
    const child = spec[nested];
    if (topKeys.includes(nested) && typeof child === "object" && child !== null) {
      levels.push([[...specPath, nested], child as Record<string, unknown>, KNOWN_KEYS[nested] ?? []]);
      for (const inner of ["timeouts", "retry"]) {
        const grandchild = (child as Record<string, unknown>)[inner];
        if (nested === "transport" && typeof grandchild === "object" && grandchild !== null) {
          levels.push([
            [...specPath, nested, inner],
            grandchild as Record<string, unknown>,
            KNOWN_KEYS[inner] ?? [],
          ]);
        }
      }
    }
  }
  // StateFun ignores unknown keys in its own kinds, and so do we (a warning); in
  // Switchboard's kinds a typo (`limit:` for `limits:`) would silently drop a setting.
  const strict = kind.startsWith("io.switchboard.");
  for (const [path, object, known] of levels) {
    for (const key of Object.keys(object)) {
      if (known.includes(key)) continue;
      const guess = didYouMean(key, known);
      const hint = guess ? ` (did you mean "${guess}"?)` : "";
      sink.diagnostics.push({
        severity: strict ? "error" : "warning",
        code: Codes.UNKNOWN_KEY,
        message: strict
          ? `unknown key "${key}"${hint}; known keys: ${known.join(", ")}`
          : `unknown key "${key}" is ignored${hint}`,
        source: keyPositionOf(doc, lineCounter, file, path, key),
        document: { index, kind },
        path: [...path.slice(specPath.length - 1), key].join("."),
      });
    }
  }
}

function errorAt(
  doc: Document,
  lineCounter: LineCounter,
  file: string,
  index: number,
  path: YamlPath,
  code: string,
  message: string,
  sink: Sink,
): void {
  sink.diagnostics.push({
    severity: "error",
    code,
    message,
    source: positionOf(doc, lineCounter, file, path),
    document: { index },
  });
}

function fileError(file: string, message: string): ConfigDiagnostic {
  return { severity: "error", code: Codes.READ_FAILED, message, source: { file, line: 1, col: 1 } };
}

function describe(source: SourceLocation): string {
  return `${source.file}:${source.line}:${source.col}`;
}
