/**
 * The validated, typed model of module configuration: what every other part of the runtime
 * reads. The loader (config/load-modules.ts) turns YAML into this; nothing else parses YAML.
 */
import type { TransportOptions } from "../transport/types.js";

/** Where something was written, for error messages: 1-based line and column. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export type EndpointKind = "io.statefun.endpoints.v1/http" | "io.statefun.endpoints.v2/http";

/** `ns/*` (name = "*") or an exact `ns/name`. */
export interface FunctionPattern {
  readonly namespace: string;
  readonly name: string;
}

export interface FunctionEndpoint {
  readonly kind: EndpointKind;
  readonly functions: FunctionPattern;
  /** As written; `{function.name}` is substituted per call. */
  readonly urlPathTemplate: string;
  /** Backlog size per address at which back-pressure starts; Infinity when <= 0 was configured. */
  readonly maxNumBatchRequests: number;
  /** Effective transport settings, defaults filled in. */
  readonly transport: TransportOptions;
  /** The transport type named in YAML (`io.statefun.transports.v1/okhttp|async`) or undefined. */
  readonly transportType?: string;
  readonly source: SourceLocation;
  /** Where `functions` was written, for errors about the binding itself (absent when built in code). */
  readonly functionsSource?: SourceLocation;
}

/** The outcome of routing one function typename. */
export interface ResolvedEndpoint {
  readonly endpoint: FunctionEndpoint;
  /** The final URL with `{function.name}` substituted, in the endpoint's scheme. */
  readonly url: string;
}

export interface FunctionRouter {
  /** Exact `ns/name` beats `ns/*`. Throws SB_CONFIG_NO_ENDPOINT when nothing matches. */
  resolve(typename: string): ResolvedEndpoint;
  /** Like resolve, but undefined instead of throwing. */
  tryResolve(typename: string): ResolvedEndpoint | undefined;
}

/** A validated component of a kind registered by another part of the runtime (ingress, egress, ...). */
export interface LoadedComponent<Spec = unknown> {
  readonly kind: string;
  readonly spec: Spec;
  readonly source: SourceLocation;
}

export interface ModuleConfig {
  readonly endpoints: readonly FunctionEndpoint[];
  readonly components: readonly LoadedComponent[];
  readonly router: FunctionRouter;
}

export interface ConfigDiagnostic {
  readonly severity: "error" | "warning";
  readonly code: string;
  readonly message: string;
  readonly source: SourceLocation;
  /** Index of the YAML document (0-based) and its kind, when known. */
  readonly document?: { readonly index: number; readonly kind?: string };
  /** Dotted path inside the component, e.g. `spec.transport.call`. */
  readonly path?: string;
}
