import { once } from "node:events";
import type { ServerResponse } from "node:http";
import type { DataRef } from "@switchboard/sdk/internal";
import { HostErrors } from "../../errors/host-errors.js";
import { SwitchboardError } from "../../errors/switchboard-error.js";
import type { HostLink } from "./host-link.js";
import type { WorkerWebRoute } from "./web-messages.js";

/** Pulls of a relayed body in flight at once (each at most one chunk, ~64 KB off a socket). */
const PULLS_AHEAD = 3;

/**
 * One web request a worker serves on its own server: its deadline, its abort (time limit or
 * client gone) and the sink of a streamed body. The host's main thread holds a record of it
 * only once the function calls the host (or it has a `data` body): `known` then asks for
 * a `web-ended` at the end, so the host can let go of what it holds for it.
 */
export class ServedRequest {
  known = false;
  /** The head of a streamed body is out: stream.write calls write to the response. */
  streaming = false;
  private deadlineAt = Number.POSITIVE_INFINITY;
  private failure: Error | undefined;
  private controller: AbortController | undefined;
  /**
   * What `race` waits on now: each is removed once its work settles. An array made on first
   * race: there are one or two at a time, and a Set per request cost more than it saved.
   */
  private racing: Array<(error: Error) => void> | undefined;

  constructor(
    readonly id: number,
    readonly route: WorkerWebRoute,
    private readonly response: ServerResponse,
    private readonly link: HostLink,
  ) {}

  /** Milliseconds left before the deadline (for the host's record of this request). */
  get left(): number {
    return Math.max(0, this.deadlineAt - performance.now());
  }

  get error(): Error | undefined {
    return this.failure;
  }

  /**
   * Starts the function's time limit: past it the request fails with SB_HOST_TIMEOUT. No
   * timer of its own: the worker's serving sweeps its requests' deadlines (`expireIfDue`),
   * which cost less per request than a timer each.
   */
  arm(): void {
    this.deadlineAt = performance.now() + this.route.timeoutMs;
  }

  /** The function answered (a streamed body stays under the deadline until it ends). */
  disarm(): void {
    this.deadlineAt = Number.POSITIVE_INFINITY;
  }

  /** Fails the request if its deadline has passed. */
  expireIfDue(now: number): void {
    if (now < this.deadlineAt) return;
    const { timeoutMs, timeoutSetting } = this.route;
    this.abort(
      new SwitchboardError(
        HostErrors.TIMEOUT,
        `the invocation ran longer than ${timeoutSetting} (${timeoutMs} ms)`,
        {
          timeoutMs,
        },
      ),
    );
  }

  abort(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.disarm();
    this.controller?.abort(error);
    const racing = this.racing;
    this.racing = undefined;
    if (racing) for (const reject of racing) reject(error);
  }

  /**
   * `work`, unless the request is aborted first. Not Promise.race against one long-lived
   * promise: each race would leave a reaction on it holding its result, and a relay of
   * 1 GiB (one race per chunk) then kept every chunk alive.
   */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.racing ??= [];
      this.racing.push(reject);
      work.then(
        (value) => {
          this.settled(reject);
          resolve(value);
        },
        (error: unknown) => {
          this.settled(reject);
          reject(error);
        },
      );
    });
  }

  private settled(reject: (error: Error) => void): void {
    const at = this.racing?.indexOf(reject) ?? -1;
    if (at !== -1) this.racing?.splice(at, 1);
  }

  /** stream.write, answered here: the response is in this thread. */
  async write(ref: DataRef): Promise<void> {
    if (!this.streaming)
      throw new SwitchboardError(HostErrors.UNKNOWN_HOST_CALL, "stream.write outside a streamed response");
    if ("bytes" in ref) await this.writeChunk(ref.bytes);
    else await this.relay(ref.id);
  }

  /**
   * Writes host-held Data `dataId` to the response, chunk by chunk as the socket takes them.
   * PULLS_AHEAD pulls stay in flight: one at a time, every chunk waited for a round trip to
   * the main thread and back. Each chunk's buffer goes back to the host with a later pull once
   * the socket has written it, so a long relay reuses a few buffers instead of making one per
   * chunk (core-host-calls.ts, chunkForWorker).
   */
  async relay(dataId: number): Promise<void> {
    const spares: ArrayBuffer[] = [];
    const pull = () => {
      const spare = spares.pop();
      const next = this.link.call(
        this.id,
        "data.pull",
        spare ? { id: dataId, spare } : { id: dataId },
        spare ? [spare] : undefined,
      ) as Promise<Uint8Array | null>;
      // Pulls still in flight when the relay ends early (abort, a failed write) are not awaited.
      next.catch(() => {});
      return next;
    };
    const ahead = Array.from({ length: PULLS_AHEAD }, pull);
    for (;;) {
      const chunk = await this.race(ahead.shift() as Promise<Uint8Array | null>);
      if (chunk === null) return;
      await this.writeChunk(chunk, () => {
        if (spares.length < PULLS_AHEAD) spares.push(chunk.buffer as ArrayBuffer);
      });
      ahead.push(pull());
    }
  }

  /** `written` runs once the socket is done with `bytes` (not if the write fails). */
  private async writeChunk(bytes: Uint8Array, written?: () => void): Promise<void> {
    if (this.failure) throw this.failure;
    const callback = written
      ? (error?: Error | null) => {
          if (!error) written();
        }
      : undefined;
    if (!this.response.write(bytes, callback)) {
      this.controller ??= new AbortController();
      await once(this.response, "drain", { signal: this.controller.signal });
    }
  }
}
