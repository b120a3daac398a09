/**
 * The messages for web requests a worker serves on its own server (the worker path, Node
 * with `reusePort`): the host tells workers to listen and stop; a worker tells the host what
 * it served (metrics), registers a request whose body the host must be able to relay, asks
 * the host to answer a failure (logged and scrubbed in the main thread) and says when a
 * request the host knows of has ended. Per request, nothing crosses unless the function calls
 * the host or fails.
 */
import type { SerializedError } from "./messages.js";

/** A web function as a worker's server needs it. */
export interface WorkerWebRoute {
  readonly name: string;
  readonly input: "data" | "bytes" | "text" | "json";
  readonly timeoutMs: number;
  readonly timeoutSetting: string;
}

export interface WorkerListenSpec {
  readonly host: string;
  readonly port: number;
  readonly requestTimeout: number;
  readonly headersTimeout: number;
  /** This worker's share of the listener's maxConnections. */
  readonly maxConnections: number;
  readonly maxBodyBytes: number;
  /** Report [route, status, seconds] of each request (a HostObserver listens). */
  readonly observe: boolean;
}

export type WebToWorker =
  /** Listen (or, when listening, take these routes); `l` names the listener. */
  | {
      readonly t: "web-listen";
      readonly l: number;
      readonly spec: WorkerListenSpec;
      readonly routes: readonly WorkerWebRoute[];
    }
  /** Stop listening; `hard` cuts requests in flight (host stop), else they finish first. */
  | { readonly t: "web-close"; readonly l: number; readonly hard: boolean }
  /** The next chunk of request `id`'s body, which the host is reading. */
  | { readonly t: "body-pull"; readonly id: number }
  /** The host let go of request `id`'s body without reading it all. */
  | { readonly t: "body-release"; readonly id: number }
  | { readonly t: "beat"; readonly n: number };

export type WebFromWorker =
  | { readonly t: "web-listening"; readonly l: number }
  | { readonly t: "web-listen-failed"; readonly l: number; readonly error: SerializedError }
  | { readonly t: "web-closed"; readonly l: number }
  /** What this turn served: route, status, seconds, route, status, seconds, ... */
  | { readonly t: "web-seen"; readonly seen: Array<string | number> }
  /** A request with a `data` input: its body becomes host Data `id`, pulled on demand. */
  | { readonly t: "body-open"; readonly id: number; readonly fn: string; readonly left: number }
  | {
      readonly t: "body-chunk";
      readonly id: number;
      readonly bytes: Uint8Array | null;
      readonly error?: string;
    }
  /**
   * Answer a failure before the response started: `by` says whether the host's own code
   * (a catalogued code, or an internal error) or the function failed. The reply's value is a
   * FailureAnswer.
   */
  | {
      readonly t: "web-fail";
      readonly callId: number;
      readonly id: number;
      readonly path: string;
      readonly by: "host" | "function";
      readonly error: SerializedError;
    }
  /** A failure after the head went out: only logged. */
  | { readonly t: "web-cut"; readonly id: number; readonly error: SerializedError }
  /** A request the host knows of (it called the host or has a body there) has ended. */
  | { readonly t: "web-ended"; readonly id: number; readonly error?: SerializedError }
  | { readonly t: "beat-ack"; readonly n: number };
