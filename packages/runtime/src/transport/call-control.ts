import { MAX_TIMER_MS } from "../config/duration.js";
import { AttemptGuard } from "./attempt-guard.js";
import type { Cancellation } from "./cancellation.js";
import type { TransportOptions } from "./types.js";

/**
 * A timer may fire up to a millisecond before `performance.now()` agrees (libuv keeps
 * loop time in whole milliseconds); a deadline that close counts as reached.
 */
const TIMER_SLACK_MS = 1;

/**
 * The deadline and abort switch of one call. One timer serves the call deadline and the
 * phase timers of the attempt in progress: re-arming a phase only moves a timestamp, and
 * the timer, when it fires, either acts or sleeps again until the nearest deadline. So a
 * call costs one setTimeout however many body chunks re-arm the read timer, and timers
 * still fire at their deadline, not on a coarse tick.
 */
export class CallControl {
  readonly deadlineAt: number;
  deadlineHit = false;
  callerAborted = false;
  /** The transport closed under the call: it ends now, whatever its deadline. */
  transportClosed = false;
  private current: AttemptGuard | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private wake: (() => void) | undefined;

  constructor(
    private readonly options: TransportOptions,
    private readonly callerSignal: AbortSignal | undefined,
    /** The transport's calls in flight: this call is in it until disposed. */
    private readonly inFlight?: Set<CallControl>,
    private readonly cancel?: Cancellation,
  ) {
    inFlight?.add(this);
    this.deadlineAt = performance.now() + options.callTimeoutMs;
    this.schedule(this.deadlineAt);
    if (callerSignal?.aborted || cancel?.aborted) {
      this.callerAborted = true;
      return;
    }
    callerSignal?.addEventListener("abort", this.onCallerAbort, { once: true });
    cancel?.onAbort(this.onCallerAbort);
  }

  /** The deadline passed or the caller gave up: no further attempt may start. */
  get stopped(): boolean {
    return this.deadlineHit || this.callerAborted || this.transportClosed;
  }

  /** Ends the call because its transport closed: no attempt, backoff or timer outlives close. */
  closeTransport(): void {
    this.transportClosed = true;
    this.abortAttempt();
    this.dispose();
  }

  startAttempt(): AttemptGuard {
    this.current = new AttemptGuard(this, this.options);
    return this.current;
  }

  /** Makes the timer fire no later than `at` (a performance.now() timestamp). */
  schedule(at: number): void {
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    // Node fires a longer delay after 1 ms (with a warning): wait the longest it takes and
    // let onTimer sleep again until the real deadline.
    this.timer = setTimeout(this.onTimer, Math.min(MAX_TIMER_MS, Math.max(0, at - performance.now())));
  }

  /** Sleeps between attempts; cut short when the call is aborted. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.wake = undefined;
          resolve();
        },
        Math.min(ms, MAX_TIMER_MS),
      );
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** Aborts whatever the attempt in progress is doing (or the sleep before the next one). */
  abortAttempt(): void {
    this.current?.abort();
    this.wake?.();
  }

  dispose(): void {
    this.inFlight?.delete(this);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.current = undefined;
    this.callerSignal?.removeEventListener("abort", this.onCallerAbort);
    this.cancel?.offAbort(this.onCallerAbort);
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = performance.now() + TIMER_SLACK_MS;
    if (now >= this.deadlineAt) {
      this.deadlineHit = true;
      this.abortAttempt();
      return;
    }
    const phaseAt = this.current?.expireIfDue(now) ?? Number.POSITIVE_INFINITY;
    this.schedule(Math.min(this.deadlineAt, phaseAt));
  };

  private readonly onCallerAbort = (): void => {
    this.callerAborted = true;
    this.abortAttempt();
  };
}
