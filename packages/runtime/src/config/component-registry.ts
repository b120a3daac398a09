import { z } from "zod";
import { ENDPOINT_V1_KIND, ENDPOINT_V2_KIND, endpointV1Spec, endpointV2Spec } from "./endpoint-schema.js";

/** A kind of module component: its typename and the schema of its `spec`. */
export interface ComponentKind<Spec = unknown> {
  readonly kind: string;
  readonly schema: z.ZodType<Spec>;
  /** One line for `switchboard validate` and error messages. */
  readonly describe?: string;
  /**
   * Checks of a parsed spec beyond its shape that need the file system (a file named
   * relative to the module YAML), so `switchboard validate` finds what `run` would.
   */
  readonly check?: (spec: Spec, baseDir: string) => readonly SpecProblem[];
}

/** One problem a kind's `check` found, at a path inside `spec`. */
export interface SpecProblem {
  readonly path: ReadonlyArray<string | number>;
  readonly code: string;
  readonly message: string;
}

/**
 * The component kinds a loader accepts. Other parts of the runtime (ingress, egress,
 * embedded functions, cache) register their kinds; the loader itself never changes.
 */
export class ComponentRegistry {
  private readonly byKind = new Map<string, ComponentKind>();

  register<Spec>(kind: ComponentKind<Spec>): this {
    if (this.byKind.has(kind.kind)) throw new Error(`component kind ${kind.kind} is registered twice`);
    this.byKind.set(kind.kind, kind as ComponentKind);
    return this;
  }

  get(kind: string): ComponentKind | undefined {
    return this.byKind.get(kind);
  }

  kinds(): string[] {
    return [...this.byKind.keys()].sort();
  }

  /** A JSON Schema for one module document (`{kind, spec}`), for editors. */
  jsonSchema(): object {
    const documents = [...this.byKind.values()].map((kind) =>
      z.object({ kind: z.literal(kind.kind).describe(kind.describe ?? kind.kind), spec: kind.schema }),
    );
    const [first, ...rest] = documents;
    const schema = first ? (rest.length > 0 ? z.union([first, ...rest]) : first) : z.never();
    return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  }
}

/** A registry holding the two StateFun endpoint kinds. */
export function defaultRegistry(): ComponentRegistry {
  return new ComponentRegistry()
    .register({
      kind: ENDPOINT_V1_KIND,
      schema: endpointV1Spec,
      describe: "StateFun HTTP function endpoint (v1)",
    })
    .register({
      kind: ENDPOINT_V2_KIND,
      schema: endpointV2Spec,
      describe: "StateFun HTTP function endpoint (v2)",
    });
}
