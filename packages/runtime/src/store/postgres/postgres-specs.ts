import type pg from "pg";
import type { SpecStore } from "../contract.js";
import type { StateSpec } from "../records.js";
import { readRows } from "./read-rows.js";

/** State specs per function type, shared by every partition; the first registration of a name wins. */
export class PostgresSpecs implements SpecStore {
  constructor(private readonly pool: pg.Pool) {}

  async register(fn: string, specs: readonly StateSpec[], now: number): Promise<void> {
    if (specs.length === 0) return;
    // One statement: it applies wholly or not at all without a transaction of its own.
    await readRows(
      this.pool,
      `INSERT INTO specs (fn, name, typename, expire_mode, expire_after_ms, registered_at)
       SELECT $1, n, t, m, a, $2 FROM unnest($3::text[], $4::text[], $5::integer[], $6::bigint[]) WITH ORDINALITY AS s(n, t, m, a, o)
       ORDER BY o ON CONFLICT (fn, name) DO NOTHING`,
      [
        fn,
        now,
        specs.map((spec) => spec.name),
        specs.map((spec) => spec.typename),
        specs.map((spec) => spec.expireMode),
        specs.map((spec) => spec.expireAfterMs),
      ],
    );
  }

  async all(): Promise<Map<string, StateSpec[]>> {
    const rows = await readRows<{
      fn: string;
      name: string;
      typename: string;
      expire_mode: number;
      expire_after_ms: string;
    }>(
      this.pool,
      "SELECT fn, name, typename, expire_mode, expire_after_ms FROM specs ORDER BY fn, registered_at, name",
    );
    const byFunction = new Map<string, StateSpec[]>();
    for (const row of rows) {
      const specs = byFunction.get(row.fn) ?? [];
      specs.push({
        name: row.name,
        typename: row.typename,
        expireMode: row.expire_mode,
        expireAfterMs: Number(row.expire_after_ms),
      });
      byFunction.set(row.fn, specs);
    }
    return byFunction;
  }
}
