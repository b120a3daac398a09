import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { Invocation, InvocationProfile, StreamSink } from "./invocation.js";

/** How long after its deadline the host stops waiting for a served request's worker. */
const BACKSTOP_MS = 500;

/**
 * The main thread's record of a web request a worker serves itself (host/worker/web-server.ts),
 * made when the request first needs the host (a host call, a `data` body): what host calls
 * run under (the function's profile, the deadline, an abort signal). The worker says when the
 * request ends; the deadline also fires here (a little later), so a call waiting on the host
 * stops even if that word never comes.
 */
export class ServedInvocation implements Invocation {
  readonly deadlineAt: number;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly id: number,
    readonly module: string,
    readonly profile: InvocationProfile,
    /** The worker serving it (its slot index). */
    readonly worker: number,
    leftMs: number,
  ) {
    this.deadlineAt = performance.now() + leftMs;
    // A backstop: the worker times its request out itself (and answers 504 first, as the
    // hop path does); this fires only if its word does not come.
    this.timer = setTimeout(
      () =>
        this.abort(
          new SwitchboardError(
            HostErrors.TIMEOUT,
            `the invocation ran longer than ${profile.timeoutSetting}`,
          ),
        ),
      Math.min(leftMs + BACKSTOP_MS, 2 ** 31 - 1),
    );
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Its stream is written in the worker, which holds the response. */
  streamSink(): Promise<StreamSink> {
    return Promise.reject(
      new SwitchboardError(HostErrors.UNKNOWN_HOST_CALL, "stream.write is answered by the serving worker"),
    );
  }

  /** The request is over; if it failed, calls still running for it are aborted, as on the hop path. */
  end(failure?: Error): void {
    clearTimeout(this.timer);
    if (failure) this.abort(failure);
  }

  private abort(reason: Error): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }
}
