import { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import type { Dispatcher } from "undici";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { TransportErrors } from "../errors/transport-errors.js";
import { type EndpointUrl, parseEndpointUrl } from "./endpoint-url.js";
import { OriginPool, poolKey } from "./origin-pool.js";
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
  readonly callSignal: AbortSignal;
}

/** Carries an error thrown by the caller's `interpret` past the retry logic. */
class CallerFailure {
  constructor(readonly error: unknown) {}
}

/** One attempt's abort switch plus the reason it was pulled, so errors are named right. */
class AttemptGuard {
  private readonly controller: AbortController | undefined;
  readonly signal: AbortSignal;
  timedOut: "read" | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    callSignal: AbortSignal,
    private readonly readTimeoutMs: number | undefined,
  ) {
    // Without a read timeout the call's own signal is enough; signals are not free on the hot path.
    this.controller = readTimeoutMs === undefined ? undefined : new AbortController();
    this.signal = this.controller ? AbortSignal.any([callSignal, this.controller.signal]) : callSignal;
  }

  /** (Re)starts the read timer: waiting for headers, then for each next body chunk. */
  armRead(): void {
    if (this.readTimeoutMs === undefined) return;
    this.clear();
    this.timer = setTimeout(() => {
      this.timedOut = "read";
      this.controller?.abort();
    }, this.readTimeoutMs);
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

class PooledTransport implements Transport {
  private readonly pools = new Map<string, OriginPool>();
  private closed = false;

  request(request: TransportRequest): Promise<TransportResponse> {
    return this.call(request, true, async (call, attempt, guard) => {
      const response = await this.send(call, guard);
      const status = response.statusCode;
      if ((status < 200 || status >= 300) && call.replayable) {
        const error = statusError(call, response, attempt);
        if (isRetryable(error, call.request.options.retry)) {
          await response.body.dump().catch(() => {});
          throw error;
        }
      }
      checkDeclaredLength(call, response, attempt);
      return streamedResponse(call, response, guard, attempt);
    });
  }

  exchange<T>(request: TransportRequest, interpret: (response: BufferedResponse) => T): Promise<T> {
    return this.call(request, false, async (call, attempt, guard) => {
      const response = await this.send(call, guard);
      if (response.statusCode < 200 || response.statusCode >= 300) {
        await response.body.dump().catch(() => {});
        throw statusError(call, response, attempt);
      }
      checkDeclaredLength(call, response, attempt);
      const body = await readAll(call, response, guard, attempt);
      guard.clear();
      try {
        return interpret({
          status: response.statusCode,
          headers: response.headers as Headers,
          body,
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
    const parsed = parseEndpointUrl(request.url);
    if (!parsed.ok) throw new SwitchboardError(TransportErrors.BAD_URL, parsed.reason, { url: request.url });
    const body = normaliseBody(request);
    if (body instanceof Uint8Array && body.length > options.payloadMaxBytes) {
      throw new SwitchboardError(
        TransportErrors.PAYLOAD_TOO_LARGE,
        `the request body (${body.length} bytes) is above payload_max_bytes (${options.payloadMaxBytes})`,
        { url: request.url, bytes: body.length, limit: options.payloadMaxBytes },
      );
    }
    const origin = this.poolFor(parsed.url, options);
    const deadline = new AbortController();
    const deadlineAt = performance.now() + options.callTimeoutMs;
    const deadlineTimer = setTimeout(() => deadline.abort(), options.callTimeoutMs);
    const callSignal = request.signal ? AbortSignal.any([deadline.signal, request.signal]) : deadline.signal;
    const call: Call = {
      request,
      url: parsed.url,
      origin,
      body,
      replayable: !(body instanceof Readable),
      callSignal,
    };
    let handedOver = false;
    try {
      let lastError: SwitchboardError | undefined;
      for (let attempt = 1; ; attempt++) {
        if (callSignal.aborted) throw this.stopped(call, attempt - 1, deadline.signal, lastError);
        origin.counters.requests++;
        const guard = new AttemptGuard(callSignal, options.readTimeoutMs);
        try {
          const result = await attemptOnce(call, attempt, guard);
          handedOver = keepDeadline;
          if (keepDeadline)
            (result as unknown as { onDone(fn: () => void): void }).onDone?.(() =>
              clearTimeout(deadlineTimer),
            );
          return result;
        } catch (raw) {
          guard.clear();
          if (raw instanceof CallerFailure) throw raw.error;
          if (request.signal?.aborted || (deadline.signal.aborted && !guard.timedOut)) {
            throw this.stopped(
              call,
              attempt,
              deadline.signal,
              lastError ?? toTransportError(raw, request.url, attempt),
            );
          }
          const error = guard.timedOut
            ? new SwitchboardError(
                TransportErrors.READ_TIMEOUT,
                `${request.url} sent nothing for ${options.readTimeoutMs} ms`,
                {
                  url: request.url,
                  attempt,
                },
              )
            : toTransportError(raw, request.url, attempt);
          if (error.code === TransportErrors.READ_TIMEOUT.code) origin.counters.timeouts.read++;
          if (error.code === TransportErrors.CONNECT_TIMEOUT.code) origin.counters.timeouts.connect++;
          lastError = error;
          if (!call.replayable || !isRetryable(error, options.retry)) throw error;
          const hinted = typeof error.details.retryAfterMs === "number" ? error.details.retryAfterMs : 0;
          const wait = Math.max(backoffMs(options.retry, attempt), hinted);
          if (performance.now() + wait >= deadlineAt) {
            origin.counters.timeouts.call++;
            throw deadlineError(call, attempt, error);
          }
          origin.counters.retries++;
          await delay(wait, undefined, { signal: callSignal }).catch(() => {});
        }
      }
    } finally {
      if (!handedOver) clearTimeout(deadlineTimer);
    }
  }

  private stopped(
    call: Call,
    attempts: number,
    deadline: AbortSignal,
    last: SwitchboardError | undefined,
  ): SwitchboardError {
    if (deadline.aborted) {
      call.origin.counters.timeouts.call++;
      return deadlineError(call, attempts, last);
    }
    return new SwitchboardError(TransportErrors.ABORTED, `the call to ${call.request.url} was aborted`, {
      url: call.request.url,
      attempts,
    });
  }

  private send(call: Call, guard: AttemptGuard): Promise<Dispatcher.ResponseData> {
    guard.armRead();
    const { request } = call;
    return call.origin
      .current()
      .request({
        path: call.url.path,
        method: (request.method ?? "GET") as Dispatcher.HttpMethod,
        headers: request.headers as Record<string, string | string[]>,
        body: call.body ?? null,
        signal: guard.signal,
      })
      .then((response) => {
        guard.armRead();
        return response;
      });
  }

  private poolFor(url: EndpointUrl, options: TransportOptions): OriginPool {
    const key = poolKey(url, options);
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new OriginPool(key, url, options);
      this.pools.set(key, pool);
    }
    return pool;
  }
}

function normaliseBody(request: TransportRequest): Uint8Array | Readable | undefined {
  const { body } = request;
  if (body === undefined) return undefined;
  if (typeof body === "string") return Buffer.from(body, "utf8");
  return body;
}

function statusError(call: Call, response: Dispatcher.ResponseData, attempt: number): SwitchboardError {
  const hint = retryAfterMs(response.headers["retry-after"]);
  return new SwitchboardError(
    TransportErrors.HTTP_STATUS,
    `${call.request.url} answered HTTP ${response.statusCode}`,
    {
      url: call.request.url,
      status: response.statusCode,
      attempt,
      ...(hint !== undefined ? { retryAfterMs: hint } : {}),
    },
  );
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

/** Fails before reading a body whose declared length is over the cap; the socket is dropped. */
function checkDeclaredLength(call: Call, response: Dispatcher.ResponseData, attempt: number): void {
  const declared = Number(response.headers["content-length"]);
  if (Number.isFinite(declared) && declared > call.request.options.payloadMaxBytes) {
    discard(response);
    throw tooLarge(call, attempt);
  }
}

async function readAll(
  call: Call,
  response: Dispatcher.ResponseData,
  guard: AttemptGuard,
  attempt: number,
): Promise<Uint8Array> {
  const limit = call.request.options.payloadMaxBytes;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      discard(response);
      throw tooLarge(call, attempt);
    }
    chunks.push(chunk);
    guard.armRead();
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
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
        guard.armRead();
        yield chunk;
      }
    } catch (error) {
      if (guard.timedOut) {
        throw new SwitchboardError(TransportErrors.READ_TIMEOUT, `${call.request.url} stalled mid-body`, {
          url: call.request.url,
          attempt,
        });
      }
      throw toTransportError(error, call.request.url, attempt);
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

function deadlineError(call: Call, attempts: number, last: SwitchboardError | undefined): SwitchboardError {
  return new SwitchboardError(
    TransportErrors.DEADLINE_EXCEEDED,
    `calling ${call.request.url} did not succeed within ${call.request.options.callTimeoutMs} ms (${attempts} attempt${attempts === 1 ? "" : "s"}${last ? `, last: ${last.message}` : ""})`,
    { url: call.request.url, attempts, ...(last ? { lastError: last.code } : {}) },
  );
}
