import type { Storage } from "../api/context.js";
import type { ValueSpec } from "../api/value-spec.js";

interface Cell {
  readonly spec: ValueSpec<unknown>;
  bytes: Uint8Array | undefined;
  /** Whether `value` holds the decoded (or last written) value of `bytes`. */
  decoded: boolean;
  value: unknown;
  change: "none" | "modify" | "delete";
}

/**
 * One address's state during a batch. Values are decoded lazily and only the final value of
 * each written state is reported back, so a batch of two increments is one MODIFY.
 */
export class AddressStorage implements Storage {
  private readonly cells: Cell[];
  /** Cells by state name, built on first use for functions with many states. */
  private byName: Map<string, Cell> | undefined;

  /** `values[i]` is the value of `specs[i]` as sent (undefined: no value). */
  constructor(specs: readonly ValueSpec<unknown>[], values: ReadonlyArray<Uint8Array | undefined>) {
    this.cells = specs.map((spec, i) => ({
      spec,
      bytes: values[i],
      decoded: false,
      value: undefined,
      change: "none",
    }));
  }

  get<T>(spec: ValueSpec<T>): T | undefined {
    const cell = this.cell(spec);
    if (cell.decoded) return cell.value as T;
    if (cell.bytes === undefined) return undefined;
    const value = spec.type.deserialize(cell.bytes);
    cell.decoded = true;
    cell.value = value;
    return value;
  }

  set<T>(spec: ValueSpec<T>, value: T): void {
    const cell = this.cell(spec);
    if (value === undefined || value === null) {
      this.delete(spec as ValueSpec<unknown>);
      return;
    }
    cell.bytes = spec.type.serialize(value);
    cell.decoded = true;
    cell.value = value;
    cell.change = "modify";
  }

  delete(spec: ValueSpec<unknown>): void {
    const cell = this.cell(spec);
    cell.bytes = undefined;
    cell.decoded = false;
    cell.value = undefined;
    cell.change = "delete";
  }

  /** Final changes, in declaration order. */
  changes(): Array<{ spec: ValueSpec<unknown>; bytes: Uint8Array | undefined }> {
    const changes: Array<{ spec: ValueSpec<unknown>; bytes: Uint8Array | undefined }> = [];
    for (const cell of this.cells) {
      if (cell.change !== "none") changes.push({ spec: cell.spec, bytes: cell.bytes });
    }
    return changes;
  }

  /** The cell of `spec`'s name: found by scanning a few cells (the spec itself first), else by a Map. */
  private cell(spec: ValueSpec<unknown>): Cell {
    const cells = this.cells;
    let found: Cell | undefined;
    if (cells.length <= SCAN_LIMIT) {
      for (const cell of cells) if (cell.spec === spec) return cell;
      for (const cell of cells) if (cell.spec.name === spec.name) found = cell;
    } else {
      this.byName ??= new Map(cells.map((cell) => [cell.spec.name, cell]));
      found = this.byName.get(spec.name);
    }
    if (!found) throw new Error(`state "${spec.name}" is not declared by this function`);
    return found;
  }
}

const SCAN_LIMIT = 16;
