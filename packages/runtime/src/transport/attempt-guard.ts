import type { CallControl } from "./call-control.js";
import type { RequestHooks } from "./hooked-pool.js";
import type { TransportOptions } from "./types.js";

export type AttemptTimeout = "connect" | "write" | "read";

/** Raised into a send still waiting in undici's queue, which undici cannot abort itself. */
export class AttemptInterrupted extends Error {}

/**
 * The timers of one attempt, one phase at a time, each from our own `setTimeout` (undici's
 * header and body timers are about a second coarse):
 * - connect: from dispatch until undici hands the request a connected socket, so it covers
 *   both the wait for a free pooled connection and the TCP/TLS connect;
 * - write: each gap between body chunks going to the socket (streamed bodies only);
 * - read: until the response headers, then each gap between body chunks.
 * When one fires it records which and aborts the attempt. It is also the hooks object
 * undici calls, so an attempt allocates nothing else for its timing.
 */
export class AttemptGuard implements RequestHooks {
  timedOut: AttemptTimeout | undefined;
  /** Set by the transport when the body goes out as a stream, so write gaps are watched. */
  streamingBody = false;
  private timer: NodeJS.Timeout | undefined;
  private phase: AttemptTimeout | undefined;
  private rejectSend: ((error: Error) => void) | undefined;

  constructor(
    private readonly control: CallControl,
    private readonly options: TransportOptions,
  ) {}

  /** (Re)starts the timer of `phase`; re-arming the running phase just refreshes it. */
  arm(phase: AttemptTimeout): void {
    const limit =
      phase === "connect"
        ? this.options.connectTimeoutMs
        : phase === "read"
          ? this.options.readTimeoutMs
          : this.options.writeTimeoutMs;
    if (this.timer && this.phase === phase) {
      this.timer.refresh();
      return;
    }
    this.clear();
    if (limit === undefined) return;
    this.phase = phase;
    this.timer = setTimeout(this.fire, limit);
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.phase = undefined;
  }

  /** Lets `interrupt()` fail a send that undici has not started yet. */
  watchSend(reject: ((error: Error) => void) | undefined): void {
    this.rejectSend = reject;
  }

  interrupt(): void {
    this.rejectSend?.(new AttemptInterrupted("attempt interrupted"));
    this.rejectSend = undefined;
  }

  onConnect(): void {
    this.arm(this.streamingBody ? "write" : "read");
  }

  onBodySent(): void {
    if (this.streamingBody) this.arm("write");
  }

  onRequestSent(): void {
    this.arm("read");
  }

  private readonly fire = (): void => {
    this.timedOut = this.phase;
    this.timer = undefined;
    this.control.abortAttempt();
  };
}
