import { createHash } from "node:crypto";
import type pg from "pg";

// Statement texts come from a fixed set of shapes (a result writes some kinds of rows and not
// others), so this stays small.
const names = new Map<string, string>();

/**
 * A query sent as a named prepared statement: each connection parses and plans a text once
 * and then only binds values, which saves the server that work on every hot statement. The
 * name is derived from the text, so one name never stands for two texts.
 */
export function prepared(text: string, values: readonly unknown[]): pg.QueryConfig {
  let name = names.get(text);
  if (name === undefined) {
    name = `sb_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
    names.set(text, name);
  }
  return { name, text, values: values as unknown[] };
}
