import type { FromFunction, ToFunction } from "@switchboard/sdk/protocol";
import { endpointLabel } from "../config/endpoint-label.js";
import type { FunctionRouter } from "../config/model.js";
import { type FunctionInvoker, type InvocationCall, invokeEncoded } from "../invoke/function-invoker.js";
import { SpanKind, Tracing } from "./tracing.js";

/**
 * A span per request to a function (`invoke <typename>`), its `traceparent` handed to the
 * invoker so the remote function (and the transport's client span) continue the trace.
 */
export class TracingInvoker implements FunctionInvoker {
  constructor(
    private readonly inner: FunctionInvoker,
    private readonly router: FunctionRouter,
    private readonly tracing: Tracing,
  ) {}

  invoke(fn: string, request: ToFunction, call?: InvocationCall): Promise<FromFunction> {
    const invocation = request.request.case === "invocation" ? request.request.value : undefined;
    return this.traced(
      fn,
      { id: invocation?.target?.id ?? "", batchSize: invocation?.invocations.length ?? 0, ...call },
      (traced) => this.inner.invoke(fn, request, traced),
    );
  }

  invokeEncoded(fn: string, body: Uint8Array, call?: InvocationCall): Promise<FromFunction> {
    return this.traced(fn, call ?? {}, (traced) => invokeEncoded(this.inner, fn, body, traced));
  }

  private async traced(
    fn: string,
    call: InvocationCall,
    send: (call: InvocationCall) => Promise<FromFunction>,
  ): Promise<FromFunction> {
    const resolved = this.router.tryResolve(fn);
    const { span, traceparent } = this.tracing.start(
      `invoke ${fn}`,
      SpanKind.INTERNAL,
      call.headers?.traceparent,
      {
        "switchboard.function_type": fn,
        "switchboard.address.id": call.id ?? "",
        "switchboard.endpoint": resolved ? endpointLabel(resolved.endpoint) : "unrouted",
        "switchboard.batch_size": call.batchSize ?? 0,
      },
    );
    try {
      const reply = await send({ ...call, headers: { ...call.headers, traceparent } });
      span.setAttribute("switchboard.reply", reply.response.case ?? "empty");
      span.end();
      return reply;
    } catch (error) {
      Tracing.fail(span, error);
      throw error;
    }
  }
}
