import type { FromWorker } from "./messages.js";

/** How the worker's web serving reaches the main thread. */
export interface HostLink {
  send(message: FromWorker, transfer?: ArrayBuffer[]): void;
  /** Posts what `send` queued now instead of at the end of the turn. */
  flush(): void;
  /** Sends a message built around a fresh call id; the host's `reply` to that id settles it. */
  ask(make: (callId: number) => FromWorker): Promise<unknown>;
  /**
   * A host call (`op`) on behalf of request `id`, as the function's own calls are made;
   * `transfer` moves buffers in `args` to the host instead of copying them.
   */
  call(id: number, op: string, args: unknown, transfer?: ArrayBuffer[]): Promise<unknown>;
}
