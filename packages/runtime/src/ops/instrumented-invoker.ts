import type { FromFunction, ToFunction } from "@switchboard/sdk/protocol";
import { endpointLabel } from "../config/endpoint-label.js";
import type { FunctionRouter } from "../config/model.js";
import type { FunctionInvoker } from "../invoke/function-invoker.js";
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

  async invoke(fn: string, request: ToFunction): Promise<FromFunction> {
    const endpoint = this.label(fn);
    const messages = request.request.case === "invocation" ? request.request.value.invocations.length : 0;
    const started = performance.now();
    try {
      const reply = await this.inner.invoke(fn, request);
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
