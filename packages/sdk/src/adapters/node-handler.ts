import type { IncomingMessage, ServerResponse } from "node:http";
import { RequestReplyHandler } from "../handler/request-reply-handler.js";
import { PROTOCOL_CONTENT_TYPE } from "../protocol/index.js";
import type { StatefulFunctions } from "../registry.js";
import {
  asSdkError,
  checkRequest,
  DEFAULT_MAX_BODY_BYTES,
  errorBody,
  reportError,
  type ServeOptions,
  tooLarge,
} from "./serve-options.js";

/** A `node:http` request listener serving `functions` with StateFun's protocol. */
export function createNodeHandler(
  functions: StatefulFunctions,
  options: ServeOptions = {},
): (request: IncomingMessage, response: ServerResponse) => void {
  const handler = new RequestReplyHandler(functions);
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return (request, response) => {
    void (async () => {
      try {
        checkRequest(request.method, request.headers["content-type"]);
        const reply = await handler.handle(await readBody(request, limit));
        response.writeHead(200, { "content-type": PROTOCOL_CONTENT_TYPE, "content-length": reply.length });
        response.end(reply);
      } catch (caught) {
        const error = asSdkError(caught);
        reportError(options, error);
        const body = errorBody(error);
        if (response.headersSent) {
          response.destroy();
          return;
        }
        response.writeHead(error.status, {
          "content-type": body ? "text/plain; charset=utf-8" : PROTOCOL_CONTENT_TYPE,
          "content-length": Buffer.byteLength(body),
        });
        response.end(body);
      }
    })();
  };
}

async function readBody(request: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    request.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}
