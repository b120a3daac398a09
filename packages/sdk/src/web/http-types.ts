import type { Data } from "./data.js";

/** An outbound call made through the host's shared transport. */
export interface HttpRequest {
  /**
   * An absolute http(s) URL; with `upstream`, a path (and query) appended to the upstream's
   * configured base URL.
   */
  readonly url: string;
  /** A named upstream from module YAML: its base URL, and headers the host adds (secrets). */
  readonly upstream?: string;
  /** Default GET, or POST when there is a body. */
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** Bytes, text, or a Data handle (moved host-side, never copied into the function). */
  readonly body?: Uint8Array | string | Data;
  /** Sent as JSON with content-type application/json (instead of `body`). */
  readonly json?: unknown;
  /** This call's deadline; the invocation's own deadline is always the upper bound. */
  readonly timeoutMs?: number;
  /** Retry I/O failures on a replayable body (default true); HTTP statuses are never retried. */
  readonly retry?: boolean;
  /**
   * Follow up to this many redirects (0 to 10; default 0: a 3xx is the answer). 307/308 keep
   * the method and body; 301/302/303 are followed for GET and HEAD only. Every hop is checked
   * against the outbound policy, and a call to an upstream never leaves the upstream's origin.
   */
  readonly maxRedirects?: number;
}

export interface HttpResponse {
  readonly status: number;
  /** Lower-case names, every value of repeated headers kept. */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  /** The body stays in the host until read; return it to relay it without copying. */
  readonly body: Data;
  header(name: string): string | undefined;
}
