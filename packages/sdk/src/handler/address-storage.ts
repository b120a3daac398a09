import type { Storage } from "../api/context.js";
import type { ValueSpec } from "../api/value-spec.js";

interface Cell {
  readonly spec: ValueSpec<unknown>;
  bytes: Uint8Array | undefined;
  decoded: { value: unknown } | undefined;
  change: "none" | "modify" | "delete";
}

/**
 * One address's state during a batch. Values are decoded lazily and only the final value of
 * each written state is reported back, so a batch of two increments is one MODIFY.
 */
export class AddressStorage implements Storage {
  private readonly cells = new Map<string, Cell>();

  constructor(specs: readonly ValueSpec<unknown>[], values: ReadonlyMap<string, Uint8Array | undefined>) {
    for (const spec of specs) {
      this.cells.set(spec.name, { spec, bytes: values.get(spec.name), decoded: undefined, change: "none" });
    }
  }

  get<T>(spec: ValueSpec<T>): T | undefined {
    const cell = this.cell(spec);
    if (cell.decoded) return cell.decoded.value as T;
    if (cell.bytes === undefined) return undefined;
    const value = spec.type.deserialize(cell.bytes);
    cell.decoded = { value };
    return value;
  }

  set<T>(spec: ValueSpec<T>, value: T): void {
    const cell = this.cell(spec);
    if (value === undefined || value === null) {
      this.delete(spec as ValueSpec<unknown>);
      return;
    }
    cell.bytes = spec.type.serialize(value);
    cell.decoded = { value };
    cell.change = "modify";
  }

  delete(spec: ValueSpec<unknown>): void {
    const cell = this.cell(spec);
    cell.bytes = undefined;
    cell.decoded = undefined;
    cell.change = "delete";
  }

  /** Final changes, in declaration order. */
  changes(): Array<{ spec: ValueSpec<unknown>; bytes: Uint8Array | undefined }> {
    return [...this.cells.values()]
      .filter((cell) => cell.change !== "none")
      .map((cell) => ({ spec: cell.spec, bytes: cell.bytes }));
  }

  private cell(spec: ValueSpec<unknown>): Cell {
    const cell = this.cells.get(spec.name);
    if (!cell) throw new Error(`state "${spec.name}" is not declared by this function`);
    return cell;
  }
}
