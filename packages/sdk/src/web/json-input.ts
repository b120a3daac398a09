import type { StandardSchemaV1 } from "./standard-schema.js";
import type { JsonInput } from "./web-types.js";

/**
 * A JSON body, validated by `schema` when given (any Standard Schema: zod 4, valibot, ...).
 * A body that does not parse or validate is answered 400 with what was wrong; the handler
 * is not run.
 */
export function json<T = unknown>(schema?: StandardSchemaV1<unknown, T>): JsonInput<T> {
  return schema ? { kind: "json", schema } : { kind: "json" };
}
