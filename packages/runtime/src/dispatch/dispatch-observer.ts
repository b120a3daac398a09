/**
 * What the dispatcher tells metrics as it works. Called on the hot path: implementations
 * must be cheap and must not throw.
 */
export interface DispatchObserver {
  /** A message from ingress (or re-injected by an operator) is durable. */
  accepted(fn: string): void;
  /** A batch of `messages` for function type `fn` was applied. */
  applied(fn: string, messages: number): void;
  /** A batch of `messages` failed with `code`; its address is suspended. */
  failed(fn: string, messages: number, code: string): void;
}
