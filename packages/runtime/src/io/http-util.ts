import type { IncomingMessage, ServerResponse } from "node:http";
import { IoErrors } from "../errors/io-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";

/** Reads a request body, failing with SB_INGRESS_TOO_LARGE as soon as it passes `limit`. */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}

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
