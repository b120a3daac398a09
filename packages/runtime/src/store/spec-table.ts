import type Database from "better-sqlite3";
import type { StateSpec } from "./records.js";

interface SpecRow {
  fn: string;
  name: string;
  typename: string;
  expire_mode: number;
  expire_after_ms: number;
}

/**
 * State specs registered per function type. Persisted so that a restart does not cost a
 * missing-state round trip per function type (StateFun kept them only in memory).
 */
export class SpecTable {
  private readonly insertStatement: Database.Statement;
  private readonly allStatement: Database.Statement<[], SpecRow>;

  constructor(db: Database.Database) {
    this.insertStatement = db.prepare(
      `INSERT INTO specs (fn, name, typename, expire_mode, expire_after_ms, registered_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (fn, name) DO NOTHING`,
    );
    this.allStatement = db.prepare("SELECT * FROM specs ORDER BY fn, registered_at, name");
  }

  /** Must run inside a commit unit. An existing registration of the name wins. */
  insert(fn: string, spec: StateSpec, now: number): void {
    this.insertStatement.run(fn, spec.name, spec.typename, spec.expireMode, spec.expireAfterMs, now);
  }

  /** Every registered spec, grouped by function type. */
  all(): Map<string, StateSpec[]> {
    const byFunction = new Map<string, StateSpec[]>();
    for (const row of this.allStatement.all()) {
      const specs = byFunction.get(row.fn) ?? [];
      specs.push({
        name: row.name,
        typename: row.typename,
        expireMode: row.expire_mode,
        expireAfterMs: row.expire_after_ms,
      });
      byFunction.set(row.fn, specs);
    }
    return byFunction;
  }
}
