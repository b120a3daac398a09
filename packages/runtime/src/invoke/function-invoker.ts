import { decodeToFunction, type FromFunction, type ToFunction } from "@switchboard/sdk/protocol";
import type { Cancellation } from "../transport/cancellation.js";

/**
 * Sends one batch to a function and returns its reply. Remote functions are reached over
 * the transport; embedded ones (in worker threads) implement the same interface, so the
 * dispatcher never knows the difference.
 */
export interface FunctionInvoker {
  /** `fn` is the target's typename; throws a SwitchboardError when the call fails for good. */
  invoke(fn: string, request: ToFunction, call?: InvocationCall): Promise<FromFunction>;
  /**
   * Optional fast path: the same call with the ToFunction already encoded. The dispatcher
   * uses it when present, which spares building the request objects per batch; wrappers
   * pass it on (see `invokeEncoded`).
   */
  invokeEncoded?(fn: string, body: Uint8Array, call?: InvocationCall): Promise<FromFunction>;
}

/** Per-call extras; invokers that have no use for them ignore them. */
export interface InvocationCall {
  /** Extra request headers for a remote call (W3C `traceparent` when tracing). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The target's id and the batch's size, so wrappers need not decode the body to label it. */
  readonly id?: string;
  readonly batchSize?: number;
  /** Abandons the call (remote invokers abort the HTTP exchange). */
  readonly signal?: AbortSignal;
  /** The same as `signal`, cheaper to make for each call (dispatch makes one per batch). */
  readonly cancel?: Cancellation;
  /** Told about each failed attempt a remote call retries (see TransportRequest.onRetry). */
  readonly onRetry?: (error: Error) => void;
}

/** Calls `invoker` with an encoded request, decoding it only for invokers without the fast path. */
export function invokeEncoded(
  invoker: FunctionInvoker,
  fn: string,
  body: Uint8Array,
  call?: InvocationCall,
): Promise<FromFunction> {
  return invoker.invokeEncoded
    ? invoker.invokeEncoded(fn, body, call)
    : invoker.invoke(fn, decodeToFunction(body), call);
}
