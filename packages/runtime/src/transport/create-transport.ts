import { pipeline, Readable, Transform } from "node:stream";
import type { Dispatcher } from "undici";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { TransportErrors } from "../errors/transport-errors.js";
import type { AttemptGuard, AttemptTimeout } from "./attempt-guard.js";
import { CallControl } from "./call-control.js";
import { type EndpointUrl, parseEndpointUrl } from "./endpoint-url.js";
import { ExchangeHandler, type ExchangeResult, ResponseTooLarge } from "./exchange-handler.js";
import type { HookedRequestOptions } from "./hooked-pool.js";
import { OriginPool, poolKey } from "./origin-pool.js";
import { headersForHop, isFollowedRedirect, redirectTarget } from "./redirect.js";
import { backoffMs, isRetryable, retryAfterMs } from "./retry-decision.js";
import { toTransportError } from "./transport-error.js";
import type {
  BufferedResponse,
  OriginStats,
  Transport,
  TransportOptions,
  TransportRequest,
  TransportResponse,
} from "./types.js";

/** Creates the host's transport. One per process is the intent: its pools are shared. */
export function createTransport(): Transport {
  return new PooledTransport();
}

type Headers = Record<string, string | string[]>;

interface Call {
  readonly request: TransportRequest;
  readonly url: EndpointUrl;
  readonly origin: OriginPool;
  readonly body: Uint8Array | Readable | undefined;
  readonly replayable: boolean;
  readonly control: CallControl;
}

/** Carries an error thrown by the caller's `interpret` past the retry logic. */
class CallerFailure {
  constructor(readonly error: unknown) {}
}

/** An answer the call follows to `location` instead of handing it back. */
class Redirected {
  constructor(readonly location: string) {}
}

/**
 * Buffered bodies above this size go to undici as a stream of slices, so each slice's
 * hand-over to the socket is seen and the write timeout can watch the gaps. Smaller
 * bodies fit in the socket's buffers and are written at once.
 */
const STREAMED_BODY_BYTES = 64 * 1024;

/** Parsed URLs are reused across calls; the cache is dropped whole when it grows past this. */
const URL_CACHE_SIZE = 4096;

class PooledTransport implements Transport {
  private readonly pools = new Map<string, OriginPool>();
  private readonly urls = new Map<string, EndpointUrl>();
  private readonly optionKeys = new WeakMap<TransportOptions, string>();
  /** Calls not finished yet (a streamed body included): close ends them all. */
  private readonly inFlight = new Set<CallControl>();
  private closed = false;

  request(request: TransportRequest): Promise<TransportResponse> {
    return this.call(request, true, async (call, attempt, guard) => {
      const response = await this.stream(call, guard);
      const status = response.statusCode;
      const location = followedLocation(call, status, response.headers as Headers);
      if (location !== undefined) {
        await response.body.dump().catch(() => {});
        throw new Redirected(location);
      }
      if ((status < 200 || status >= 300) && call.replayable) {
        const error = statusError(call, status, response.headers as Headers, attempt);
        if (isRetryable(error, call.request.options.retry)) {
          await response.body.dump().catch(() => {});
          throw error;
        }
      }
      const declared = Number(response.headers["content-length"]);
      if (Number.isFinite(declared) && declared > call.request.options.payloadMaxBytes) {
        discard(response);
        throw tooLarge(call, attempt);
      }
      return streamedResponse(call, response, guard, attempt);
    });
  }

  exchange<T>(request: TransportRequest, interpret: (response: BufferedResponse) => T): Promise<T> {
    return this.call(request, false, async (call, attempt, guard) => {
      const response = await this.buffered(call, guard, attempt);
      const location = followedLocation(call, response.status, response.headers);
      if (location !== undefined) throw new Redirected(location);
      if (response.status < 200 || response.status >= 300) {
        throw statusError(call, response.status, response.headers, attempt);
      }
      try {
        return interpret({
          status: response.status,
          headers: response.headers,
          body: response.body,
          attempts: attempt,
        });
      } catch (error) {
        // Only a deliberate invalid-response rejection is a transport matter; anything
        // else the caller threw is its own failure and goes back to it untouched.
        if (error instanceof SwitchboardError && error.code === TransportErrors.INVALID_RESPONSE.code)
          throw error;
        throw new CallerFailure(error);
      }
    });
  }

  stats(): OriginStats[] {
    return [...this.pools.values()].map((pool) => {
      const { connected, free } = pool.stats();
      return {
        origin: pool.key.split("|")[0] ?? pool.key,
        connectionsOpen: connected,
        connectionsIdle: free,
        requests: pool.counters.requests,
        reusedConnections: Math.max(0, pool.counters.requests - pool.counters.connects),
        retries: pool.counters.retries,
        timeouts: { ...pool.counters.timeouts },
      };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    // Otherwise a call retrying against destroyed pools would go on until its deadline
    // (a minute by default), keeping a stopped runtime's process alive.
    for (const control of [...this.inFlight]) control.closeTransport();
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
    this.pools.clear();
  }

  /**
   * Runs attempts until one succeeds, the failure is not retryable, or the call deadline
   * would pass. `keepDeadline` leaves the deadline running for a streamed body.
   */
  private async call<T>(
    request: TransportRequest,
    keepDeadline: boolean,
    attemptOnce: (call: Call, attempt: number, guard: AttemptGuard) => Promise<T>,
  ): Promise<T> {
    if (this.closed) throw new SwitchboardError(TransportErrors.CLOSED, "the transport is closed");
    const { options } = request;
    const url = this.parse(request.url);
    const given = normaliseBody(request);
    const body = given instanceof Readable ? capStream(given, request.url, options.payloadMaxBytes) : given;
    if (body instanceof Uint8Array && body.length > options.payloadMaxBytes) {
      throw new SwitchboardError(
        TransportErrors.PAYLOAD_TOO_LARGE,
        `the request body (${body.length} bytes) is above payload_max_bytes (${options.payloadMaxBytes})`,
        { url: request.url, bytes: body.length, limit: options.payloadMaxBytes },
      );
    }
    const control = new CallControl(options, request.signal, this.inFlight, request.cancel);
    let call: Call = {
      request,
      url,
      origin: this.poolFor(url, options, request.url),
      body,
      replayable: !(body instanceof Readable),
      control,
    };
    let handedOver = false;
    let hops = 0;
    try {
      let lastError: SwitchboardError | undefined;
      for (let attempt = 1; ; attempt++) {
        if (control.stopped) throw this.stopped(call, attempt - 1, lastError);
        const { origin } = call;
        origin.counters.requests++;
        const guard = control.startAttempt();
        try {
          const result = await attemptOnce(call, attempt, guard);
          handedOver = keepDeadline;
          if (keepDeadline)
            (result as unknown as { onDone(fn: () => void): void }).onDone?.(() => control.dispose());
          return result;
        } catch (raw) {
          guard.clear();
          if (raw instanceof CallerFailure) throw raw.error;
          if (raw instanceof Redirected) {
            // A hop is not a retry: no backoff, and the deadline goes on running.
            call = await this.nextHop(call, raw.location, ++hops, request.url);
            continue;
          }
          if (control.stopped && !guard.timedOut) {
            throw this.stopped(call, attempt, lastError ?? toTransportError(raw, request.url, attempt));
          }
          const error = guard.timedOut
            ? attemptTimeoutError(call, guard.timedOut, attempt)
            : toTransportError(raw, request.url, attempt);
          countTimeout(origin, error);
          lastError = error;
          if (!call.replayable || !isRetryable(error, options.retry)) throw error;
          const hinted = typeof error.details.retryAfterMs === "number" ? error.details.retryAfterMs : 0;
          const wait = Math.max(backoffMs(options.retry, attempt), hinted);
          if (performance.now() + wait >= control.deadlineAt) {
            origin.counters.timeouts.call++;
            throw deadlineError(call, attempt, error);
          }
          origin.counters.retries++;
          request.onRetry?.(error);
          await control.sleep(wait);
        }
      }
    } finally {
      if (!handedOver) control.dispose();
    }
  }

  /** The call as sent to a redirect's target, or the error that ends it there. */
  private async nextHop(call: Call, location: string, hops: number, firstUrl: string): Promise<Call> {
    const { request } = call;
    const limit = request.maxRedirects ?? 0;
    if (hops > limit) {
      throw new SwitchboardError(
        TransportErrors.TOO_MANY_REDIRECTS,
        `${firstUrl} redirected more than ${limit} times (the last hop, ${request.url}, pointed to ${location})`,
        { url: firstUrl, hops: hops - 1 },
      );
    }
    const target = redirectTarget(request.url, call.url, location);
    if (!target.ok) {
      throw new SwitchboardError(
        TransportErrors.BAD_REDIRECT,
        `${request.url} redirected to where it cannot be followed: ${target.reason}`,
        { url: request.url },
      );
    }
    await request.checkRedirect?.(target.raw);
    const headers = headersForHop(request.headers, call.url, target.url);
    const { headers: _dropped, ...rest } = request;
    return {
      ...call,
      request: { ...rest, url: target.raw, ...(headers ? { headers } : {}) },
      url: target.url,
      origin: this.poolFor(target.url, request.options, target.raw),
    };
  }

  private stopped(call: Call, attempts: number, last: SwitchboardError | undefined): SwitchboardError {
    if (call.control.transportClosed) {
      return new SwitchboardError(
        TransportErrors.CLOSED,
        `the transport closed while calling ${call.request.url} (the runtime is stopping)`,
        { url: call.request.url, attempts },
      );
    }
    if (call.control.deadlineHit) {
      call.origin.counters.timeouts.call++;
      return deadlineError(call, attempts, last);
    }
    return new SwitchboardError(TransportErrors.ABORTED, `the call to ${call.request.url} was aborted`, {
      url: call.request.url,
      attempts,
    });
  }

  /** The body and headers to send for one attempt; a large buffer goes out in slices. */
  private outgoing(
    call: Call,
    guard: AttemptGuard,
  ): { body: Uint8Array | Readable | null; headers?: Headers } {
    const headers = call.request.headers as Headers | undefined;
    const body = call.body;
    if (body instanceof Uint8Array && body.length > STREAMED_BODY_BYTES) {
      guard.streamingBody = true;
      return { body: sliced(body), headers: { ...headers, "content-length": String(body.length) } };
    }
    guard.streamingBody = body instanceof Readable;
    return { body: body ?? null, ...(headers ? { headers } : {}) };
  }

  /** One attempt that reads the whole response into memory (see ExchangeHandler). */
  private buffered(call: Call, guard: AttemptGuard, attempt: number): Promise<ExchangeResult> {
    const { body, headers } = this.outgoing(call, guard);
    guard.arm("connect");
    return new Promise<ExchangeResult>((resolve, reject) => {
      guard.watchSend(reject);
      const handler = new ExchangeHandler(guard, call.request.options.payloadMaxBytes, resolve, (error) =>
        reject(error instanceof ResponseTooLarge ? tooLarge(call, attempt) : error),
      );
      call.origin.current().dispatch(
        {
          path: call.url.path,
          method: (call.request.method ?? "GET") as Dispatcher.HttpMethod,
          ...(headers ? { headers } : {}),
          body,
        },
        handler,
      );
    });
  }

  /** One attempt that resolves at the response headers, leaving the body to stream. */
  private stream(call: Call, guard: AttemptGuard): Promise<Dispatcher.ResponseData> {
    const { body, headers } = this.outgoing(call, guard);
    guard.arm("connect");
    const options: HookedRequestOptions = {
      path: call.url.path,
      method: (call.request.method ?? "GET") as Dispatcher.HttpMethod,
      ...(headers ? { headers } : {}),
      body,
      hooks: guard,
    };
    return new Promise<Dispatcher.ResponseData>((resolve, reject) => {
      guard.watchSend(reject);
      call.origin
        .current()
        .request(options)
        .then(
          (response) => {
            guard.watchSend(undefined);
            guard.watchBody(response.body);
            guard.arm("read");
            resolve(response);
          },
          (error: unknown) => {
            guard.settled();
            reject(error);
          },
        );
    });
  }

  private parse(raw: string): EndpointUrl {
    let url = this.urls.get(raw);
    if (url) return url;
    const parsed = parseEndpointUrl(raw);
    if (!parsed.ok) throw new SwitchboardError(TransportErrors.BAD_URL, parsed.reason, { url: raw });
    if (this.urls.size >= URL_CACHE_SIZE) this.urls.clear();
    url = parsed.url;
    this.urls.set(raw, url);
    return url;
  }

  private poolFor(url: EndpointUrl, options: TransportOptions, rawUrl: string): OriginPool {
    let optionsKey = this.optionKeys.get(options);
    if (optionsKey === undefined) {
      optionsKey = poolKey(options);
      this.optionKeys.set(options, optionsKey);
    }
    const key = `${url.poolKey}|${optionsKey}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new OriginPool(key, url, options, rawUrl);
      this.pools.set(key, pool);
    }
    return pool;
  }
}

/** A buffered body as a stream of slices, so undici hands it to the socket piece by piece. */
function sliced(body: Uint8Array): Readable {
  let offset = 0;
  return new Readable({
    highWaterMark: 0,
    read() {
      if (offset >= body.length) {
        this.push(null);
        return;
      }
      const end = Math.min(offset + STREAMED_BODY_BYTES, body.length);
      this.push(body.subarray(offset, end));
      offset = end;
    },
  });
}

function normaliseBody(request: TransportRequest): Uint8Array | Readable | undefined {
  const { body } = request;
  if (body === undefined) return undefined;
  if (typeof body === "string") return Buffer.from(body, "utf8");
  return body;
}

/**
 * Caps a caller's stream body: the stream errors (and undici fails the request, closing the
 * connection) as soon as it passes the cap, since its length is unknown up front.
 */
function capStream(body: Readable, url: string, limit: number): Readable {
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size <= limit) done(null, chunk);
      else
        done(
          new SwitchboardError(
            TransportErrors.PAYLOAD_TOO_LARGE,
            `the request body to ${url} passed payload_max_bytes (${limit})`,
            { url, limit },
          ),
        );
    },
  });
  return pipeline(body, counter, () => {});
}

/** The Location of an answer this call follows, or undefined when the answer is handed back. */
function followedLocation(call: Call, status: number, headers: Headers): string | undefined {
  if (!call.request.maxRedirects || status < 300 || status > 399) return undefined;
  if (!isFollowedRedirect(status, call.request.method ?? "GET", call.replayable)) return undefined;
  const location = headers.location;
  return Array.isArray(location) ? location[0] : location;
}

function statusError(call: Call, status: number, headers: Headers, attempt: number): SwitchboardError {
  const hint = retryAfterMs(headers["retry-after"]);
  return new SwitchboardError(TransportErrors.HTTP_STATUS, `${call.request.url} answered HTTP ${status}`, {
    url: call.request.url,
    status,
    attempt,
    ...(hint !== undefined ? { retryAfterMs: hint } : {}),
  });
}

/** Drops a body mid-way; the connection is closed, never reused. */
function discard(response: Dispatcher.ResponseData): void {
  response.body.on("error", () => {});
  response.body.destroy();
}

function tooLarge(call: Call, attempt: number): SwitchboardError {
  const limit = call.request.options.payloadMaxBytes;
  return new SwitchboardError(
    TransportErrors.PAYLOAD_TOO_LARGE,
    `the response from ${call.request.url} is above payload_max_bytes (${limit})`,
    { url: call.request.url, limit, attempt },
  );
}

function attemptTimeoutError(call: Call, kind: AttemptTimeout, attempt: number): SwitchboardError {
  const { url, options } = call.request;
  const details = { url, attempt };
  if (kind === "connect") {
    return new SwitchboardError(
      TransportErrors.CONNECT_TIMEOUT,
      `no connection to ${url} within ${options.connectTimeoutMs} ms`,
      details,
    );
  }
  if (kind === "write") {
    return new SwitchboardError(
      TransportErrors.WRITE_TIMEOUT,
      `${url} took no request body for ${options.writeTimeoutMs} ms`,
      details,
    );
  }
  return new SwitchboardError(
    TransportErrors.READ_TIMEOUT,
    `${url} sent nothing for ${options.readTimeoutMs} ms`,
    details,
  );
}

function countTimeout(origin: OriginPool, error: SwitchboardError): void {
  const { timeouts } = origin.counters;
  if (error.code === TransportErrors.READ_TIMEOUT.code) timeouts.read++;
  else if (error.code === TransportErrors.CONNECT_TIMEOUT.code) timeouts.connect++;
  else if (error.code === TransportErrors.WRITE_TIMEOUT.code) timeouts.write++;
}

function streamedResponse(
  call: Call,
  response: Dispatcher.ResponseData,
  guard: AttemptGuard,
  attempt: number,
): TransportResponse & { onDone(fn: () => void): void } {
  const done: Array<() => void> = [];
  const finish = () => {
    guard.clear();
    guard.watchBody(undefined);
    for (const fn of done.splice(0)) fn();
  };
  const limit = call.request.options.payloadMaxBytes;
  async function* guarded(): AsyncGenerator<Buffer> {
    let size = 0;
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) {
          discard(response);
          throw tooLarge(call, attempt);
        }
        // The read timer measures the server, not a slow consumer: off while the chunk is
        // with the caller, on again while we wait for the next one.
        guard.clear();
        yield chunk;
        guard.arm("read");
      }
    } catch (error) {
      throw bodyError(call, guard, error, attempt);
    } finally {
      finish();
    }
  }
  const body = Readable.from(guarded(), { objectMode: false });
  const bytes = async (): Promise<Uint8Array> => {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  };
  return {
    status: response.statusCode,
    headers: response.headers as Headers,
    body,
    attempts: attempt,
    bytes,
    text: async () => Buffer.from(await bytes()).toString("utf8"),
    dump: async () => {
      body.destroy();
      await response.body.dump().catch(() => {});
      finish();
    },
    onDone: (fn) => done.push(fn),
  };
}

/** Names what ended a body the caller was reading after the call was handed back. */
function bodyError(call: Call, guard: AttemptGuard, error: unknown, attempt: number): SwitchboardError {
  const { control } = call;
  if (error instanceof SwitchboardError) return error;
  if (guard.timedOut) {
    const timeout = attemptTimeoutError(call, guard.timedOut, attempt);
    countTimeout(call.origin, timeout);
    return timeout;
  }
  if (control.deadlineHit) {
    call.origin.counters.timeouts.call++;
    return deadlineError(call, attempt, undefined);
  }
  if (control.callerAborted) {
    return new SwitchboardError(TransportErrors.ABORTED, `the call to ${call.request.url} was aborted`, {
      url: call.request.url,
      attempts: attempt,
    });
  }
  return toTransportError(error, call.request.url, attempt);
}

function deadlineError(call: Call, attempts: number, last: SwitchboardError | undefined): SwitchboardError {
  return new SwitchboardError(
    TransportErrors.DEADLINE_EXCEEDED,
    `calling ${call.request.url} did not succeed within ${call.request.options.callTimeoutMs} ms (${attempts} attempt${attempts === 1 ? "" : "s"}${last ? `, last: ${last.message}` : ""})`,
    { url: call.request.url, attempts, ...(last ? { lastError: last.code } : {}) },
  );
}
