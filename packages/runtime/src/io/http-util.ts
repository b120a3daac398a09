import type { IncomingMessage, ServerResponse } from "node:http";
import { IoErrors } from "../errors/io-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";

/**
 * Reads a request body, failing with SB_INGRESS_TOO_LARGE as soon as it passes `limit`.
 * Plain stream events rather than an async iterator: this runs once per ingress message,
 * and the iterator's promise per chunk is a measurable share of a small message's cost.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    request.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.off("data", onData);
        request.resume();
        reject(tooLarge(limit));
        return;
      }
      if (first === undefined) first = chunk;
      else if (chunks === undefined) chunks = [first, chunk];
      else chunks.push(chunk);
    };
    // `on`, not `once`: each event comes at most once that matters (a settled promise ignores
    // the rest), and `once` allocates a wrapper per listener on every request.
    request.on("data", onData);
    request.on("end", () => {
      if (size > limit) return;
      resolve(chunks ? Buffer.concat(chunks, size) : (first ?? EMPTY));
    });
    request.on("error", reject);
    request.on("aborted", () => reject(new Error("the client aborted the request")));
  });
}

const EMPTY = Buffer.alloc(0);

function tooLarge(limit: number): SwitchboardError {
  return new SwitchboardError(
    IoErrors.INGRESS_TOO_LARGE,
    `the body is larger than the limit of ${limit} bytes`,
    { limit },
  );
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(payload),
    ...headers,
  });
  response.end(payload);
}

/**
 * The ingress's 202 `{"accepted":true,"address":...,"seq":...}`, written without building an
 * object to stringify or a header object to walk: it is sent once per accepted message.
 */
export function sendAccepted(response: ServerResponse, address: string, seq: number): void {
  const payload = `{"accepted":true,"address":${JSON.stringify(address)},"seq":${seq}}`;
  response.writeHead(202, [
    "content-type",
    "application/json",
    "content-length",
    String(Buffer.byteLength(payload)),
  ]);
  response.end(payload);
}

/** Answers with a catalogued error; anything else becomes a 500 that reveals nothing internal. */
export function sendError(
  response: ServerResponse,
  error: unknown,
  headers: Record<string, string> = {},
): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  if (error instanceof SwitchboardError) {
    sendJson(response, error.status, { error: { code: error.code, message: error.message } }, headers);
  } else {
    sendJson(response, 500, { error: { code: "SB_INTERNAL", message: "internal error" } }, headers);
  }
}
