import type { Data } from "./data.js";
import type { StandardSchemaV1 } from "./standard-schema.js";
import type { WebResponse } from "./web-response.js";

/** What a web function's handler receives besides its decoded body. */
export interface WebRequest {
  /** As sent: GET, POST, PUT, ... */
  readonly method: string;
  /** The function's name from `/functions/<name>`. */
  readonly name: string;
  /** What follows `/functions/<name>`: "" or "/rest/of/path" (still percent-encoded). */
  readonly path: string;
  /** Query parameters; a repeated key keeps every value, in order. */
  readonly query: Readonly<Record<string, readonly string[]>>;
  /** Lower-case header names; a repeated header keeps every value, in order. */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  /** The first value of a header (case-insensitive), or undefined. */
  header(name: string): string | undefined;
  /** An id unique to this invocation (also in the host's logs). */
  readonly invocationId: string;
}

/** A body decoded as JSON and checked by a Standard Schema (zod, valibot, ...). */
export interface JsonInput<T> {
  readonly kind: "json";
  readonly schema?: StandardSchemaV1<unknown, T>;
}

/**
 * How the request body reaches the handler: `"data"` (a host handle, not copied in),
 * `"bytes"`, `"text"` (UTF-8), or `json(schema)`.
 */
export type WebInput<T> = "data" | "bytes" | "text" | JsonInput<T>;

export type InputValue<I> = I extends "data"
  ? Data
  : I extends "bytes"
    ? Uint8Array
    : I extends "text"
      ? string
      : I extends JsonInput<infer T>
        ? T
        : never;

/** A JSON value a handler may return (sent as application/json). */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: unknown };

/**
 * What a handler may return: nothing (204), a string (text/plain), bytes or Data
 * (application/octet-stream), a WebResponse, or any other JSON value (application/json).
 */
// biome-ignore lint/suspicious/noConfusingVoidType: handlers that return nothing are typed void.
export type WebOutput = undefined | void | string | Uint8Array | Data | WebResponse | JsonValue | object;
