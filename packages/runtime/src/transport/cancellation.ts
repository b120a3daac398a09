/**
 * A caller's switch to end a call, for callers that make one per call: Node builds every
 * AbortController as an EventTarget, which cost dispatch a few percent of its CPU per message.
 * It serves one listener at a time, the call it was given to.
 */
export class Cancellation {
  aborted = false;
  reason: unknown;
  private listener: (() => void) | undefined;

  /** Ends the call it was given to (if any is running) and every call given it after. */
  abort(reason: unknown = new Error("the call was abandoned")): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
  }

  /** Runs `listener` on abort (replacing any earlier one). */
  onAbort(listener: () => void): void {
    this.listener = listener;
  }

  /** Forgets `listener` if it is the one set. */
  offAbort(listener: () => void): void {
    if (this.listener === listener) this.listener = undefined;
  }
}
