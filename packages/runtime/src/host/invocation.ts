import type { Readable } from "node:stream";
import type { HostCallTable } from "./host-calls.js";

/** What a streamed web response does with each chunk: resolves when the socket takes more. */
export type StreamSink = (chunk: Uint8Array | Readable) => Promise<void>;

/**
 * The host-side settings an invocation runs under: its function's. Functions of one pool
 * may differ here (a time limit, an outbound policy), because the host applies these per
 * invocation; only heap, process.env and thread count need a pool of their own.
 */
export interface InvocationProfile {
  readonly timeoutMs: number;
  /** The setting the time limit comes from, named in the timeout error. */
  readonly timeoutSetting: string;
  /** Host calls bound to the function's outbound policy, upstreams and data limit. */
  readonly calls: HostCallTable;
}

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
  /** Where the next chunk of a streamed body goes; fails if the response is not streamed. */
  streamSink(): Promise<StreamSink>;
}
