import type { WireWebRequest, WireWebResponse } from "@switchboard/sdk/internal";
import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { Invocation, InvocationProfile, StreamSink } from "./invocation.js";
import type { Slot } from "./worker-pool.js";

/** What an invocation runs: a stateful batch (protocol bytes) or a web request. */
export type Task = { kind: "stateful"; bytes: Uint8Array } | { kind: "web"; request: WireWebRequest };

/** One invocation running (or queued) in the pool. */
export class RunningInvocation implements Invocation {
  /** Set when a worker takes the invocation: time waiting in the queue does not count. */
  deadlineAt = Number.POSITIVE_INFINITY;
  timer: NodeJS.Timeout | undefined;
  slot: Slot | undefined;
  settled = false;
  /** The function answered with a streamed body: its chunks come as stream.write calls. */
  streaming = false;
  readonly result: Promise<Uint8Array | WireWebResponse>;
  resolveResult!: (value: Uint8Array | WireWebResponse) => void;
  rejectResult!: (error: Error) => void;
  // The signal and the end of a stream are made only when asked for: most invocations
  // never call out and never stream, and these are not free on the hot path.
  private controller: AbortController | undefined;
  private abortReason: Error | undefined;
  private endOutcome: { error?: Error } | undefined;
  private endWaiter: { resolve(): void; reject(error: Error): void } | undefined;
  // Set only once a streamed head is sent, never per request: a sink closure reaching the
  // response from every invocation measurably kept requests alive through young-generation
  // collections (scavenges 3x longer in the web-function benchmark).
  private sink: StreamSink | undefined;
  private sinkWaiter: { resolve(sink: StreamSink): void; reject(error: Error): void } | undefined;

  constructor(
    readonly id: number,
    readonly module: string,
    readonly task: Task,
    readonly profile: InvocationProfile,
  ) {
    this.result = new Promise((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    this.result.catch(() => {});
  }

  /** Aborted when the invocation fails, times out, or its client goes away. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  abort(reason: Error): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
    this.sinkWaiter?.reject(reason);
    this.sinkWaiter = undefined;
  }

  /** Called by the web listener once the head of a streamed response is sent. */
  openStream(sink: StreamSink): void {
    this.sink = sink;
    this.sinkWaiter?.resolve(sink);
    this.sinkWaiter = undefined;
  }

  /**
   * Where the next chunk of a streamed body goes. A chunk can arrive in the same batch as the
   * answer that starts the stream, before the listener has sent the head: it waits for it.
   */
  streamSink(): Promise<StreamSink> {
    if (this.sink) return Promise.resolve(this.sink);
    if (!this.streaming)
      return Promise.reject(
        new SwitchboardError(HostErrors.UNKNOWN_HOST_CALL, "stream.write outside a streamed response"),
      );
    if (this.abortReason) return Promise.reject(this.abortReason);
    return new Promise((resolve, reject) => {
      this.sinkWaiter = { resolve, reject };
    });
  }

  /** Resolves when a streamed body has been sent completely. */
  get ended(): Promise<void> {
    const outcome = this.endOutcome;
    if (outcome) return outcome.error ? Promise.reject(outcome.error) : Promise.resolve();
    return new Promise((resolve, reject) => {
      this.endWaiter = { resolve, reject };
    });
  }

  resolveEnd(): void {
    if (this.endOutcome) return;
    this.endOutcome = {};
    this.endWaiter?.resolve();
  }

  rejectEnd(error: Error): void {
    if (this.endOutcome) return;
    this.endOutcome = { error };
    this.endWaiter?.reject(error);
  }
}
