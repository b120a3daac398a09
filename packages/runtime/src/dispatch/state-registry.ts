import { DispatchErrors } from "../errors/dispatch-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { StateSpec } from "../store/records.js";

/**
 * Registered state specs per function type, mirrored from the store. The first registration
 * of a name wins; a later spec with a different TTL is ignored, a different type is an error.
 */
export class StateRegistry {
  private readonly byFunction: Map<string, StateSpec[]>;

  constructor(initial: Map<string, StateSpec[]>) {
    this.byFunction = new Map(initial);
  }

  specsFor(fn: string): readonly StateSpec[] {
    return this.byFunction.get(fn) ?? [];
  }

  find(fn: string, name: string): StateSpec | undefined {
    return this.byFunction.get(fn)?.find((spec) => spec.name === name);
  }

  /** The specs among `candidates` that are new; throws on a type clash with a registered one. */
  newSpecs(fn: string, candidates: readonly StateSpec[]): StateSpec[] {
    const fresh: StateSpec[] = [];
    for (const candidate of candidates) {
      const existing = this.find(fn, candidate.name) ?? fresh.find((spec) => spec.name === candidate.name);
      if (!existing) {
        fresh.push(candidate);
      } else if (existing.typename !== candidate.typename) {
        throw new SwitchboardError(
          DispatchErrors.STATE_TYPE_MISMATCH,
          `state "${candidate.name}" of ${fn} is registered with type ${existing.typename}, but the function declares ${candidate.typename}`,
          { fn, state: candidate.name, registered: existing.typename, declared: candidate.typename },
        );
      }
    }
    return fresh;
  }

  /** Call once the specs are durably stored. */
  add(fn: string, specs: readonly StateSpec[]): void {
    // Two addresses of one type may register the same name concurrently: keep the first.
    const added = specs.filter((spec) => !this.find(fn, spec.name));
    if (added.length > 0) this.byFunction.set(fn, [...this.specsFor(fn), ...added]);
  }

  all(): ReadonlyMap<string, readonly StateSpec[]> {
    return this.byFunction;
  }
}
