import { formatAddress } from "../dispatch/address.js";
import type { AcceptWrapper } from "../io/playground-ingress.js";
import { SpanKind, Tracing } from "./tracing.js";

/**
 * A server span per ingress message, from receipt to durable accept, continuing the
 * client's `traceparent` when it sent one. The stored seq is recorded so the message can
 * be found later (the admin API's backlog and the failure log's invocation id use it).
 */
export function ingressSpans(tracing: Tracing): AcceptWrapper {
  return async (headers, target, accept) => {
    const { span } = tracing.start(`ingress ${target.fn}`, SpanKind.SERVER, headers.traceparent, {
      "switchboard.function_type": target.fn,
      "switchboard.address": formatAddress(target),
    });
    try {
      const stored = await accept();
      span.setAttribute("switchboard.message.seq", stored.seq);
      span.end();
      return stored;
    } catch (error) {
      Tracing.fail(span, error);
      throw error;
    }
  };
}
