import type { Readable } from "node:stream";

/** What a streamed web response does with each chunk: resolves when the socket takes more. */
export type StreamSink = (chunk: Uint8Array | Readable) => Promise<void>;

/**
 * One invocation on the host side: its id (which owns its Data and host calls), its abort
 * signal (timeout, client gone, worker lost) and where a streamed body goes.
 */
export interface Invocation {
  readonly id: number;
  /** Aborted when the invocation fails, times out, or its client goes away. */
  readonly signal: AbortSignal;
  /** performance.now() at which the invocation times out. */
  readonly deadlineAt: number;
  readonly module: string;
  streamSink?: StreamSink;
}
