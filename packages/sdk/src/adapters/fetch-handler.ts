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

/** A fetch-style handler, `(Request) => Promise<Response>`, for runtimes built on web APIs. */
export function createFetchHandler(
  functions: StatefulFunctions,
  options: ServeOptions = {},
): (request: Request) => Promise<Response> {
  const handler = new RequestReplyHandler(functions);
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return async (request) => {
    try {
      checkRequest(request.method, request.headers.get("content-type"));
      const declared = Number(request.headers.get("content-length"));
      if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
      const body = new Uint8Array(await request.arrayBuffer());
      if (body.length > limit) throw tooLarge(limit);
      const reply = await handler.handle(body);
      return new Response(reply, { status: 200, headers: { "content-type": PROTOCOL_CONTENT_TYPE } });
    } catch (caught) {
      const error = asSdkError(caught);
      reportError(options, error);
      const body = errorBody(error);
      return new Response(body, {
        status: error.status,
        headers: { "content-type": body ? "text/plain; charset=utf-8" : PROTOCOL_CONTENT_TYPE },
      });
    }
  };
}
