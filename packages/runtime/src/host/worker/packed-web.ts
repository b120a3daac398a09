/**
 * The two hottest messages of the host, a web request going to a worker and its buffered
 * response coming back, as flat arrays of strings and bytes instead of nested objects:
 * structured clone serializes an array of primitives with less work than objects with keys
 * and arrays of header pairs, and the host's main thread (the one every web request crosses)
 * pays for that serialization. Other messages keep their object form.
 */
import type { DataRef, HeaderPairs, WireWebRequest, WireWebResponse } from "@switchboard/sdk/internal";

/** ["w", id, name, method, path, rawQuery, invocationId, bytes | dataId, ...name, value]. */
export type PackedWebRun = [
  "w",
  number,
  string,
  string,
  string,
  string,
  string,
  Uint8Array | number,
  ...string[],
];

/** ["d", id, status, bytes | null, ...name, value]: a response with bytes or no body. */
export type PackedWebDone = ["d", number, number, Uint8Array | null, ...string[]];

const RUN_FIXED = 8;
const DONE_FIXED = 4;

export function packWebRun(id: number, request: WireWebRequest): PackedWebRun {
  const body = "bytes" in request.body ? request.body.bytes : request.body.id;
  const packed: PackedWebRun = [
    "w",
    id,
    request.name,
    request.method,
    request.path,
    request.rawQuery,
    request.invocationId,
    body,
  ];
  for (const [name, value] of request.headers) packed.push(name, value);
  return packed;
}

export function unpackWebRun(packed: PackedWebRun): { id: number; request: WireWebRequest } {
  const body = packed[7];
  const request: WireWebRequest = {
    name: packed[2],
    method: packed[3],
    path: packed[4],
    rawQuery: packed[5],
    invocationId: packed[6],
    body: (typeof body === "number" ? { id: body } : { bytes: body }) as DataRef,
    headers: pairs(packed, RUN_FIXED),
  };
  return { id: packed[1], request };
}

/** The packed form of a response, when it has one (bytes or no body). */
export function packWebDone(id: number, response: WireWebResponse): PackedWebDone | undefined {
  const { body } = response;
  if (body.kind !== "bytes" && body.kind !== "none") return undefined;
  const packed: PackedWebDone = ["d", id, response.status, body.kind === "bytes" ? body.bytes : null];
  for (const [name, value] of response.headers) packed.push(name, value);
  return packed;
}

export function unpackWebDone(packed: PackedWebDone): { id: number; response: WireWebResponse } {
  const bytes = packed[3];
  return {
    id: packed[1],
    response: {
      status: packed[2],
      headers: pairs(packed, DONE_FIXED),
      body: bytes === null ? { kind: "none" } : { kind: "bytes", bytes },
    },
  };
}

function pairs(packed: readonly unknown[], from: number): HeaderPairs {
  const out: HeaderPairs = [];
  for (let index = from; index + 1 < packed.length; index += 2)
    out.push([packed[index] as string, packed[index + 1] as string]);
  return out;
}
