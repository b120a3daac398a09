import type { FromFunction, ToFunction } from "@switchboard/sdk/protocol";
import { endpointLabel } from "../config/endpoint-label.js";
import type { FunctionRouter } from "../config/model.js";
import { type FunctionInvoker, type InvocationCall, invokeEncoded } from "../invoke/function-invoker.js";
import type { Metrics } from "./metrics.js";

/**
 * Wraps an invoker to time every request per endpoint and record its batch size. Requests
 * that only register missing state are requests too: each round trip is counted.
 */
export class InstrumentedInvoker implements FunctionInvoker {
  private readonly labels = new Map<string, string>();

  constructor(
    private readonly inner: FunctionInvoker,
    private readonly router: FunctionRouter,
    private readonly metrics: Metrics,
  ) {}

  invoke(fn: string, request: ToFunction, call?: InvocationCall): Promise<FromFunction> {
    const messages = request.request.case === "invocation" ? request.request.value.invocations.length : 0;
    return this.timed(fn, messages, () => this.inner.invoke(fn, request, call));
  }

  invokeEncoded(fn: string, body: Uint8Array, call?: InvocationCall): Promise<FromFunction> {
    return this.timed(fn, call?.batchSize ?? 0, () => invokeEncoded(this.inner, fn, body, call));
  }

  private async timed(
    fn: string,
    messages: number,
    send: () => Promise<FromFunction>,
  ): Promise<FromFunction> {
    const endpoint = this.label(fn);
    const started = performance.now();
    try {
      const reply = await send();
      this.metrics.observeInvocation(endpoint, (performance.now() - started) / 1000, messages, true);
      return reply;
    } catch (error) {
      this.metrics.observeInvocation(endpoint, (performance.now() - started) / 1000, messages, false);
      throw error;
    }
  }

  private label(fn: string): string {
    let label = this.labels.get(fn);
    if (label === undefined) {
      const resolved = this.router.tryResolve(fn);
      label = resolved ? endpointLabel(resolved.endpoint) : "unrouted";
      this.labels.set(fn, label);
    }
    return label;
  }
}
