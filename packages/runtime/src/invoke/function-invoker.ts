import type { FromFunction, ToFunction } from "@switchboard/sdk/protocol";

/**
 * Sends one batch to a function and returns its reply. Remote functions are reached over
 * the transport; embedded ones (in worker threads) implement the same interface, so the
 * dispatcher never knows the difference.
 */
export interface FunctionInvoker {
  /** `fn` is the target's typename; throws a SwitchboardError when the call fails for good. */
  invoke(fn: string, request: ToFunction): Promise<FromFunction>;
  /**
   * Optional fast path: the same call with the ToFunction already encoded. The dispatcher
   * uses it when present, which spares building the request objects per batch.
   */
  invokeEncoded?(fn: string, body: Uint8Array): Promise<FromFunction>;
}
