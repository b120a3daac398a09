import {
  decodeFromFunction,
  encodeToFunction,
  type FromFunction,
  PROTOCOL_CONTENT_TYPE,
  type ToFunction,
} from "@switchboard/sdk/protocol";
import type { FunctionRouter } from "../config/model.js";
import { invalidResponse } from "../transport/index.js";
import type { BufferedResponse, Transport } from "../transport/types.js";
import type { FunctionInvoker, InvocationCall } from "./function-invoker.js";

const REQUEST_HEADERS = { "content-type": PROTOCOL_CONTENT_TYPE, accept: PROTOCOL_CONTENT_TYPE };

/**
 * StateFun's client follows redirects; a moved function endpoint is followed too, a few hops
 * at most (a loop fails fast), all within the endpoint's `call` deadline.
 */
export const ENDPOINT_MAX_REDIRECTS = 5;

/**
 * Calls remote functions with StateFun's request-reply protocol over the host transport.
 * The endpoint's transport profile decides timeouts and which failures are retried; an
 * unreadable reply is an invalid response, which the async profile retries.
 */
export class RemoteInvoker implements FunctionInvoker {
  constructor(
    private readonly router: FunctionRouter,
    private readonly transport: Transport,
  ) {}

  invoke(fn: string, request: ToFunction, call?: InvocationCall): Promise<FromFunction> {
    return this.invokeEncoded(fn, encodeToFunction(request), call);
  }

  invokeEncoded(fn: string, body: Uint8Array, call?: InvocationCall): Promise<FromFunction> {
    const { endpoint, url } = this.router.resolve(fn);
    return this.transport.exchange(
      {
        url,
        method: "POST",
        headers: call?.headers ? { ...call.headers, ...REQUEST_HEADERS } : REQUEST_HEADERS,
        body,
        options: endpoint.transport,
        ...(call?.signal ? { signal: call.signal } : {}),
        ...(call?.cancel ? { cancel: call.cancel } : {}),
        ...(call?.onRetry ? { onRetry: call.onRetry } : {}),
        maxRedirects: ENDPOINT_MAX_REDIRECTS,
      },
      (response) => readReply(fn, response),
    );
  }
}

function readReply(fn: string, response: BufferedResponse): FromFunction {
  const header = response.headers["content-type"];
  const contentType =
    header === PROTOCOL_CONTENT_TYPE
      ? header
      : (Array.isArray(header) ? header[0] : header)?.split(";")[0]?.trim().toLowerCase();
  // The Go SDK sets no Content-Type and lets Go sniff one, so a missing or sniffed
  // text/plain type is tolerated; any other type is not a protocol reply.
  if (contentType && contentType !== PROTOCOL_CONTENT_TYPE && contentType !== "text/plain") {
    throw invalidResponse(
      `${fn} answered with Content-Type ${contentType}, expected ${PROTOCOL_CONTENT_TYPE}`,
      {
        fn,
        contentType,
      },
    );
  }
  try {
    return decodeFromFunction(response.body);
  } catch (error) {
    throw invalidResponse(`${fn} answered with a body that is not a StateFun FromFunction message`, {
      fn,
      bytes: response.body.length,
      reason: error instanceof Error ? error.message : String(error),
    });
  }
}
