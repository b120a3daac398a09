import { AttemptGuard } from "./attempt-guard.js";
import type { TransportOptions } from "./types.js";

/**
 * The abort switch and deadline of one call. One AbortController serves every attempt
 * until one is actually aborted (then the next attempt gets a fresh one), so the common
 * path costs a single controller and a single deadline timer, with no `AbortSignal.any`.
 */
export class CallControl {
  readonly deadlineAt: number;
  deadlineHit = false;
  callerAborted = false;
  private controller = new AbortController();
  private current: AttemptGuard | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly options: TransportOptions,
    private readonly callerSignal: AbortSignal | undefined,
  ) {
    this.deadlineAt = performance.now() + options.callTimeoutMs;
    this.timer = setTimeout(() => {
      this.deadlineHit = true;
      this.abortAttempt();
    }, options.callTimeoutMs);
    if (callerSignal?.aborted) this.callerAborted = true;
    else callerSignal?.addEventListener("abort", this.onCallerAbort, { once: true });
  }

  /** The deadline passed or the caller gave up: no further attempt may start. */
  get stopped(): boolean {
    return this.deadlineHit || this.callerAborted;
  }

  /** The signal of the attempt in progress (or of the backoff sleep between attempts). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  startAttempt(): AttemptGuard {
    this.renew();
    this.current = new AttemptGuard(this, this.options);
    return this.current;
  }

  /** After an aborted attempt, a fresh switch for the backoff and the next attempt. */
  renew(): void {
    if (this.controller.signal.aborted && !this.stopped) this.controller = new AbortController();
  }

  /** Aborts whatever is in flight: undici's request (or body) and a send still queued in the pool. */
  abortAttempt(): void {
    this.controller.abort();
    this.current?.interrupt();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.current?.clear();
    this.callerSignal?.removeEventListener("abort", this.onCallerAbort);
  }

  private readonly onCallerAbort = (): void => {
    this.callerAborted = true;
    this.abortAttempt();
  };
}
