import type { FromFunction, ToFunction } from "@switchboard/sdk/protocol";

/**
 * Sends one batch to a function and returns its reply. Remote functions are reached over
 * the transport; embedded ones (in worker threads) implement the same interface, so the
 * dispatcher never knows the difference.
 */
export interface FunctionInvoker {
  /** `fn` is the target's typename; throws a SwitchboardError when the call fails for good. */
  invoke(fn: string, request: ToFunction, call?: InvocationCall): Promise<FromFunction>;
}

/** Per-call extras; invokers that have no use for them ignore them. */
export interface InvocationCall {
  /** Extra request headers for a remote call (W3C `traceparent` when tracing). */
  readonly headers?: Readonly<Record<string, string>>;
}
