/**
 * The messages between the host and its workers (internal; documented in docs/host.md).
 * Plain objects only: they cross a MessagePort by structured clone.
 */
import type { DataRef } from "./data.js";

export type HeaderPairs = Array<[string, string]>;

export interface WireHttpRequest {
  readonly url: string;
  readonly upstream?: string;
  readonly method: string;
  readonly headers: HeaderPairs;
  readonly body?: DataRef;
  readonly timeoutMs?: number;
  readonly retry?: boolean;
  readonly maxRedirects?: number;
}

export interface WireHttpResponse {
  readonly status: number;
  readonly headers: HeaderPairs;
  /** Id of the host-held body. */
  readonly body: number;
}

/** A web request as the host hands it to a worker. */
export interface WireWebRequest {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly rawQuery: string;
  readonly headers: HeaderPairs;
  readonly invocationId: string;
  /** Host-held body (input "data") or the bytes (other inputs). */
  readonly body: DataRef;
}

export type WireBody =
  | { readonly kind: "none" }
  | { readonly kind: "bytes"; readonly bytes: Uint8Array }
  | { readonly kind: "data"; readonly id: number }
  /** Chunks follow as `stream.write` host calls, then `stream.end`. */
  | { readonly kind: "stream" };

export interface WireWebResponse {
  readonly status: number;
  readonly headers: HeaderPairs;
  readonly body: WireBody;
}

export function pairsToRecord(pairs: HeaderPairs): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of pairs) {
    const existing = out[name];
    if (existing) existing.push(value);
    else out[name] = [value];
  }
  return out;
}

/** The first value of header `lowerName` among the pairs (names are lower-case), or undefined. */
export function firstHeader(pairs: HeaderPairs, lowerName: string): string | undefined {
  for (const [name, value] of pairs) if (name === lowerName) return value;
  return undefined;
}

export function headerLookup(
  headers: Readonly<Record<string, readonly string[]>>,
): (name: string) => string | undefined {
  return (name) => headers[name.toLowerCase()]?.[0];
}
