import type { StateValue } from "./records.js";

/**
 * The state values of recently invoked addresses, kept in front of the state table so that
 * sending a batch does not read SQLite. The table writes through it inside the commit unit;
 * when a unit or a whole group rolls back the store drops everything (rare, and a miss only
 * costs a read). Bounded by address count: the least recently used address goes first.
 */
export class StateCache {
  private readonly entries = new Map<string, Map<string, StateValue>>();

  constructor(private readonly capacity: number) {}

  get(key: string): Map<string, StateValue> | undefined {
    const values = this.entries.get(key);
    if (values !== undefined) {
      // Re-insert so Map order tracks recency.
      this.entries.delete(key);
      this.entries.set(key, values);
    }
    return values;
  }

  /** Only values already known to be live or absent; an empty map caches "no state". */
  set(key: string, values: Map<string, StateValue>): void {
    if (this.capacity <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, values);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  /** The cached map of `key` without touching recency, for write-through. */
  peek(key: string): Map<string, StateValue> | undefined {
    return this.entries.get(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
