import type { CallControl } from "./call-control.js";
import type { RequestHooks } from "./hooked-pool.js";
import type { TransportOptions } from "./types.js";

export type AttemptTimeout = "connect" | "write" | "read";

/** The reason an attempt was cut off; the transport names the real cause from the guard. */
export class AttemptInterrupted extends Error {}

/**
 * The phase timers of one attempt and its abort handles. Phases, each bounded by our own
 * timer (undici's header and body timers are about a second coarse):
 * - connect: from dispatch until undici hands the request a connected socket, so it covers
 *   both the wait for a free pooled connection and the TCP/TLS connect;
 * - write: each gap between body chunks going to the socket (streamed bodies only);
 * - read: until the response headers, then each gap between body chunks.
 * The call's one timer (CallControl) fires at the nearest phase deadline. The guard is also
 * the hooks object undici calls, so an attempt allocates nothing else for its timing.
 * Aborting works without an AbortSignal: a queued send is rejected (and undici's request
 * aborted the moment it gets a socket), a running one through undici's abort callback, a
 * body being read by destroying it.
 */
export class AttemptGuard implements RequestHooks {
  timedOut: AttemptTimeout | undefined;
  /** Set when the body goes out as a stream, so write gaps are watched. */
  streamingBody = false;
  private phase: AttemptTimeout | undefined;
  private phaseAt = Number.POSITIVE_INFINITY;
  private aborted = false;
  private rejectSend: ((error: Error) => void) | undefined;
  private abortRequest: ((error: Error) => void) | undefined;
  private responseBody: { destroy(error: Error): void } | undefined;

  constructor(
    private readonly control: CallControl,
    private readonly options: TransportOptions,
  ) {}

  /** (Re)starts the bound of `phase` from now; an undefined limit means none. */
  arm(phase: AttemptTimeout): void {
    const limit =
      phase === "read"
        ? this.options.readTimeoutMs
        : phase === "connect"
          ? this.options.connectTimeoutMs
          : this.options.writeTimeoutMs;
    if (limit === undefined) {
      this.clear();
      return;
    }
    this.phase = phase;
    this.phaseAt = performance.now() + limit;
    this.control.schedule(this.phaseAt);
  }

  clear(): void {
    this.phase = undefined;
    this.phaseAt = Number.POSITIVE_INFINITY;
  }

  /** Called by the call's timer: fires the phase if its deadline passed, else says when it is due. */
  expireIfDue(now: number): number {
    if (this.phase === undefined || now < this.phaseAt) return this.phaseAt;
    this.timedOut = this.phase;
    this.clear();
    this.control.abortAttempt();
    return Number.POSITIVE_INFINITY;
  }

  /** Lets `abort()` fail a send that has no response yet. */
  watchSend(reject: ((error: Error) => void) | undefined): void {
    this.rejectSend = reject;
  }

  /** Lets `abort()` end a response body that is being read. */
  watchBody(body: { destroy(error: Error): void } | undefined): void {
    this.responseBody = body;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.clear();
    const reason = new AttemptInterrupted("attempt interrupted");
    this.rejectSend?.(reason);
    this.rejectSend = undefined;
    this.abortRequest?.(reason);
    this.responseBody?.destroy(reason);
  }

  onConnect(abort: (error: Error) => void): void {
    if (this.aborted) {
      abort(new AttemptInterrupted("attempt interrupted"));
      return;
    }
    this.abortRequest = abort;
    this.arm(this.streamingBody ? "write" : "read");
  }

  onBodySent(): void {
    if (this.streamingBody) this.arm("write");
  }

  onRequestSent(): void {
    this.arm("read");
  }

  /** The request is over (answered or failed): undici's abort handle is stale now. */
  settled(): void {
    this.abortRequest = undefined;
    this.rejectSend = undefined;
  }
}
