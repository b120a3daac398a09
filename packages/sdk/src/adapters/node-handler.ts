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
  // Async so that an onError that throws surfaces as an unhandled rejection, as it always did.
  const fail = async (response: ServerResponse, caught: unknown): Promise<void> => {
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
  };
  // Callbacks and one promise (the handler's) per request, rather than an async function
  // awaiting a body promise: two promises and their microtask hops fewer.
  return (request, response) => {
    try {
      checkRequest(request.method, request.headers["content-type"]);
    } catch (caught) {
      void fail(response, caught);
      return;
    }
    readBody(request, limit, (error, body) => {
      if (body === undefined) {
        void fail(response, error);
        return;
      }
      handler.handle(body).then(
        (reply) => {
          try {
            response.writeHead(200, {
              "content-type": PROTOCOL_CONTENT_TYPE,
              "content-length": reply.length,
            });
            response.end(reply);
          } catch (caught) {
            void fail(response, caught);
          }
        },
        (caught) => fail(response, caught),
      );
    });
  };
}

/**
 * Calls `done` once with the whole body as one buffer, or with the error that ended the
 * read. Plain 'data'/'end' listeners rather than `for await`: the async iterator costs
 * microseconds per request (end-of-stream tracking, a promise per chunk), a visible share of
 * a request this small. A body in one chunk (the usual case) is used as it is; more chunks
 * are concatenated once at the end, into one buffer of the size received.
 */
function readBody(
  request: IncomingMessage,
  limit: number,
  done: (error: unknown, body?: Uint8Array) => void,
): void {
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    request.resume();
    done(tooLarge(limit));
    return;
  }
  // No named closures in here: tsx (which runs these sources in development and in the
  // benchmarks) wraps each one in a defineProperty call for its name, on every request.
  let settled = false;
  let first: Buffer | undefined;
  let more: Buffer[] | undefined;
  let size = 0;
  request.on("data", (chunk: Buffer) => {
    if (settled) return;
    size += chunk.length;
    if (size > limit) {
      settled = true;
      stopReading(request);
      done(tooLarge(limit));
      return;
    }
    if (first === undefined) first = chunk;
    else if (more === undefined) more = [first, chunk];
    else more.push(chunk);
  });
  request.on("end", () => {
    if (settled) return;
    settled = true;
    done(undefined, more ? Buffer.concat(more, size) : (first ?? EMPTY));
  });
  request.on("error", (error) => {
    if (settled) return;
    settled = true;
    done(error);
  });
  // 'close' follows every 'end'; only one before it (without an error) fails the read, as
  // `for await` did. Checked first: building an Error per request would cost more than it saves.
  request.on("close", () => {
    if (settled) return;
    settled = true;
    done(prematureClose());
  });
}

const EMPTY = new Uint8Array(0);

/**
 * Stops reading a body that is too large the way leaving a `for await` loop over the request
 * does (node's stream destroyer for a server request): the request is destroyed after being
 * detached from its socket, so the socket stays open and the 413 still reaches the client.
 */
function stopReading(request: IncomingMessage): void {
  (request as { socket: unknown }).socket = null;
  request.destroy(
    Object.assign(new Error("The operation was aborted"), { name: "AbortError", code: "ABORT_ERR" }),
  );
}

function prematureClose(): Error {
  return Object.assign(new Error("Premature close"), { code: "ERR_STREAM_PREMATURE_CLOSE" });
}
