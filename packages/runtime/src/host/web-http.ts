/**
 * The parts of serving a web function that do not depend on which thread serves it: reading
 * the function's name out of the path, and writing a buffered answer's head. The web listener
 * (main thread) and the worker's own server (host/worker/web-server.ts) both use them.
 */
import type { ServerResponse } from "node:http";
import type { HeaderPairs } from "@switchboard/sdk/internal";
import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";

/** Response headers the host manages itself. */
export const MANAGED_HEADERS = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "trailer",
  "te",
]);
const PREFIX = "/functions/";

export interface WebTarget {
  /** The web function's name, percent-decoded. */
  readonly name: string;
  /** What follows the name, from its slash on ("" when nothing does). */
  readonly path: string;
  readonly rawQuery: string;
}

/** `/functions/<name>[/<rest>][?query]`, or the catalogued 404 saying what is wrong. */
export function webTarget(url: string | undefined): WebTarget {
  const target = url ?? "/";
  const queryAt = target.indexOf("?");
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  if (!path.startsWith(PREFIX)) {
    throw new SwitchboardError(
      HostErrors.BAD_PATH,
      `web functions are served at /functions/<name>, not ${path}`,
    );
  }
  const slash = path.indexOf("/", PREFIX.length);
  return {
    name: decodeSegment(path.slice(PREFIX.length, slash === -1 ? undefined : slash)),
    path: slash === -1 ? "" : path.slice(slash),
    rawQuery: queryAt === -1 ? "" : target.slice(queryAt + 1),
  };
}

export function unknownWebFunction(name: string): SwitchboardError {
  return new SwitchboardError(HostErrors.UNKNOWN_WEB_FUNCTION, `there is no web function named ${name}`, {
    name,
  });
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new SwitchboardError(
      HostErrors.BAD_PATH,
      `the path segment ${segment} is not valid percent-encoding`,
    );
  }
}

/** Node's rawHeaders as lower-case name/value pairs, repeats kept. */
export function headerPairs(raw: readonly string[]): HeaderPairs {
  const pairs: HeaderPairs = [];
  for (let index = 0; index + 1 < raw.length; index += 2) {
    pairs.push([(raw[index] as string).toLowerCase(), raw[index + 1] as string]);
  }
  return pairs;
}

/**
 * writeHead's array form (names and values in one flat list, repeats kept) of what a function
 * answered, minus the headers the host manages; `length` replaces any content-length given.
 */
export function responseHead(
  headers: ReadonlyArray<readonly [string, string]>,
  length: "keep" | "drop" | number,
): string[] {
  const flat: string[] = [];
  for (const [name, value] of headers) {
    if (MANAGED_HEADERS.has(name) || (length !== "keep" && name === "content-length")) continue;
    flat.push(name, value);
  }
  if (typeof length === "number") flat.push("content-length", String(length));
  return flat;
}

/** Ends a response with a buffered answer (no body, or bytes). */
export function sendBuffered(
  response: ServerResponse,
  status: number,
  headers: ReadonlyArray<readonly [string, string]>,
  bytes: Uint8Array | undefined,
): void {
  response.writeHead(status, responseHead(headers, bytes ? bytes.length : "drop"));
  response.end(bytes);
}
