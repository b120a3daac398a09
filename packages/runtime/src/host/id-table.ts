/**
 * Values by numeric id, for tables whose entries come and go at request rate (invocations in
 * flight). It keeps them in a null-prototype object rather than a Map: measured on Node 20
 * with the web-function benchmark, a Map in this role made young-generation collections
 * keep every removed invocation (and the request and response it reached) alive until the
 * next full collection: each scavenge promoted about 4 KB per request and took 4.5-5 ms
 * instead of under 1 ms. The object's dictionary lets removed values go at once.
 */
export class IdTable<V> {
  private readonly entries: Record<number, V> = Object.create(null);
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): V | undefined {
    return this.entries[id];
  }

  set(id: number, value: V): void {
    if (this.entries[id] === undefined) this.count++;
    this.entries[id] = value;
  }

  delete(id: number): boolean {
    if (this.entries[id] === undefined) return false;
    delete this.entries[id];
    this.count--;
    return true;
  }

  /** A snapshot of the values, safe to iterate while entries are removed. */
  values(): V[] {
    return Object.values(this.entries);
  }
}
