/**
 * Public types of the transport: the host's one outbound HTTP engine. The runtime uses it
 * to call remote functions; hosted functions use it to call the outside world. Both share
 * its per-origin connection pools, so pools stay hot across callers and invocations.
 */
import type { Readable } from "node:stream";
import type { Cancellation } from "./cancellation.js";

/** Which StateFun transport behaviour a call follows (see docs/transport.md). */
export type TransportProfile = "default" | "async";

export interface RetryPolicy {
  /** Retry connect/reset/timeout failures (I/O errors). */
  readonly retryIoErrors: boolean;
  /** HTTP statuses that are retried; `"all-failures"` retries every non-2xx status. */
  readonly retryStatuses: "all-failures" | readonly number[];
  /** Also retry every status >= 500 (on top of `retryStatuses`). */
  readonly retryServerErrors: boolean;
  /** Retry when the caller's `interpret` rejects a response as invalid (wrong content type, bad body). */
  readonly retryInvalidResponses: boolean;
  /** First backoff; each further attempt doubles it, with jitter, capped by `maxBackoffMs`. */
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

export interface TlsOptions {
  /** Paths of extra PEM CA files to trust (in addition to the system roots). */
  readonly trustCaCerts?: readonly string[];
  /** Client certificate and key paths for mTLS: both or neither. */
  readonly clientCert?: string;
  readonly clientKey?: string;
  /** Path of a file whose content is the client key's passphrase. */
  readonly clientKeyPasswordFile?: string;
}

/** Everything that shapes one call; endpoints derive this from module YAML. */
export interface TransportOptions {
  readonly profile: TransportProfile;
  /** Deadline of the whole call, every attempt and backoff included. */
  readonly callTimeoutMs: number;
  /** Bounds each TCP/TLS connect and each wait for a free pooled connection. */
  readonly connectTimeoutMs: number;
  /** Bounds the wait for response headers and each gap between body chunks; undefined = call deadline only. */
  readonly readTimeoutMs?: number;
  /** Bounds each gap while sending the request body; undefined = call deadline only. */
  readonly writeTimeoutMs?: number;
  /** Maximum connections per origin. */
  readonly poolSize: number;
  /** Maximum age of a pooled connection in ms; 0 = connections are never rotated. */
  readonly poolTtlMs: number;
  /** Cap on request and response bodies. */
  readonly payloadMaxBytes: number;
  /** Negotiate HTTP/2 (ALPN over TLS). */
  readonly http2?: boolean;
  readonly tls?: TlsOptions;
  readonly retry: RetryPolicy;
  /** Vets every address a new connection goes to, after DNS (hosted functions' calls). */
  readonly addressGuard?: AddressGuard;
}

/**
 * Decides, at connect time, whether an address may be connected to: the address checked is
 * the address connected, so DNS cannot answer one thing to a check and another to the
 * connection. Calls with a guard never share connections with calls without it.
 */
export interface AddressGuard {
  /** Pools are shared only by calls whose guards have the same key. */
  readonly key: string;
  /** The error to fail the call with (not retried), or undefined to connect. */
  check(hostname: string, address: string, port: number): Error | undefined;
}

export type HeaderValues = Readonly<Record<string, string | readonly string[]>>;

export interface TransportRequest {
  /** http://, https://, http+unix:///path/to/x.sock/http/path or https+unix://... */
  readonly url: string;
  readonly method?: string;
  readonly headers?: HeaderValues;
  /** Buffers and strings can be replayed, so calls with them are retried; a stream cannot. */
  readonly body?: Uint8Array | string | Readable;
  readonly options: TransportOptions;
  /** Cancels the call (all attempts) when aborted. */
  readonly signal?: AbortSignal;
  /** The same as `signal`, cheaper to make for each call. */
  readonly cancel?: Cancellation;
  /**
   * Told about each failed attempt that is about to be retried, so a caller can see an
   * origin failing long before the call's whole budget runs out.
   */
  readonly onRetry?: (error: Error) => void;
  /**
   * Follow redirects, at most this many hops, all within the call deadline: 307/308 keep the
   * method and body, 301/302/303 are followed for GET and HEAD only (transport/redirect.ts).
   * 0 or absent: a 3xx is the answer.
   */
  readonly maxRedirects?: number;
  /** Called with each hop's URL before it is sent; what it throws fails the call as is. */
  readonly checkRedirect?: (url: string) => void | Promise<void>;
}

/** A response whose body has not been read yet. */
export interface TransportResponse {
  readonly status: number;
  /** Lower-case names; repeated headers keep every value. */
  readonly headers: Readonly<Record<string, string | string[]>>;
  /** The body as a stream, bounded by payloadMaxBytes and the read timeout. */
  readonly body: Readable;
  /** How many attempts the call took (1 = no retry). */
  readonly attempts: number;
  /** Reads the whole body (bounded by payloadMaxBytes). */
  bytes(): Promise<Uint8Array>;
  text(): Promise<string>;
  /** Discards the body so the connection can be reused. */
  dump(): Promise<void>;
}

/** A response whose body has been read completely. */
export interface BufferedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Uint8Array;
  readonly attempts: number;
}

/** Per-origin figures for metrics and the admin view. */
export interface OriginStats {
  readonly origin: string;
  readonly connectionsOpen: number;
  readonly connectionsIdle: number;
  readonly requests: number;
  readonly reusedConnections: number;
  readonly retries: number;
  readonly timeouts: Readonly<Record<"connect" | "read" | "write" | "call", number>>;
}

export interface Transport {
  /**
   * Sends a request and resolves when response headers arrive. Retries (per the options'
   * policy, within the call deadline) happen only before a response is handed back:
   * I/O errors and retryable statuses.
   */
  request(request: TransportRequest): Promise<TransportResponse>;
  /**
   * Sends a replayable request, reads the whole response and hands it to `interpret` inside
   * the retry loop. `interpret` throws a `SB_TRANSPORT_INVALID_RESPONSE` error (see
   * `invalidResponse()`) to reject a response; it is retried when the policy says so.
   * Non-2xx statuses never reach `interpret`.
   */
  exchange<T>(request: TransportRequest, interpret: (response: BufferedResponse) => T): Promise<T>;
  stats(): OriginStats[];
  /** Closes every pool; calls in flight fail. */
  close(): Promise<void>;
}
