import { type Dispatcher, util } from "undici";
import type { AttemptGuard } from "./attempt-guard.js";

export interface ExchangeResult {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  /** The body of a 2xx answer; empty for any other status (it is read and dropped). */
  readonly body: Uint8Array;
}

/** Raised when the response passes the payload cap; the transport names the error. */
export class ResponseTooLarge extends Error {}

/**
 * An undici dispatch handler that reads a whole response straight into memory: no
 * Readable, no async iterator, no AbortSignal. It is the hot path of `exchange()`, which
 * is how the runtime calls remote functions. Each chunk re-arms the read timer and counts
 * against the cap; passing the cap (or a Content-Length above it) aborts the request, so
 * the connection is closed rather than reused.
 */
export class ExchangeHandler implements Dispatcher.DispatchHandler {
  private status = 0;
  private headers: Record<string, string | string[]> = {};
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private abortRequest: ((error: Error) => void) | undefined;

  constructor(
    private readonly guard: AttemptGuard,
    private readonly limit: number,
    private readonly resolve: (result: ExchangeResult) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  onConnect(abort: (error?: Error) => void): void {
    this.abortRequest = abort;
    this.guard.onConnect(abort);
  }

  onBodySent(): void {
    this.guard.onBodySent();
  }

  onRequestSent(): void {
    this.guard.onRequestSent();
  }

  onHeaders(status: number, rawHeaders: Buffer[]): boolean {
    // 1xx answers (100 Continue, 103 Early Hints) come before the real one.
    if (status < 200) return true;
    this.status = status;
    this.headers = util.parseHeaders(rawHeaders);
    const declared = status < 300 ? Number(this.headers["content-length"]) : 0;
    if (declared > this.limit) this.abortRequest?.(new ResponseTooLarge());
    else this.guard.arm("read");
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.guard.arm("read");
    if (this.status < 200 || this.status >= 300) return true;
    this.size += chunk.length;
    if (this.size > this.limit) {
      this.abortRequest?.(new ResponseTooLarge());
      return true;
    }
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    this.guard.settled();
    const { chunks, size } = this;
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
    this.resolve({ status: this.status, headers: this.headers, body });
  }

  onError(error: Error): void {
    this.guard.settled();
    this.reject(error);
  }
}
