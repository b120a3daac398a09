import { splitTypename } from "./api/address.js";
import type { FunctionSpec } from "./api/function-spec.js";
import { SdkError, SdkErrors } from "./errors.js";

/** The functions one server offers, by typename. */
export class StatefulFunctions {
  private readonly functions = new Map<string, FunctionSpec>();

  /** Adds a function; throws on a bad typename, a duplicate, or duplicate state names. */
  register(spec: FunctionSpec): this {
    try {
      splitTypename(spec.typename);
    } catch (error) {
      throw new SdkError(SdkErrors.INVALID_DEFINITION, (error as Error).message);
    }
    if (this.functions.has(spec.typename)) {
      throw new SdkError(SdkErrors.INVALID_DEFINITION, `${spec.typename} is registered twice`);
    }
    const names = (spec.specs ?? []).map((value) => value.name);
    const repeated = names.find((name, index) => names.indexOf(name) !== index);
    if (repeated)
      throw new SdkError(SdkErrors.INVALID_DEFINITION, `${spec.typename} declares state "${repeated}" twice`);
    this.functions.set(spec.typename, spec);
    return this;
  }

  get(typename: string): FunctionSpec | undefined {
    return this.functions.get(typename);
  }

  typenames(): string[] {
    return [...this.functions.keys()];
  }
}
