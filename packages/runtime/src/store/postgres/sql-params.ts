/** Collects a statement's parameters as it is built: `add` returns the placeholder ($n). */
export class SqlParams {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
