import { Client, Dispatcher, errors } from "undici";
import { hooked } from "./hooked-pool.js";
import { ReleasingHandler } from "./releasing-handler.js";

export interface ClientPoolOptions extends Client.Options {
  /** Most connections open at once. */
  readonly connections: number;
  /** Retire a connection this many ms after it connected (0 or absent: never). */
  readonly clientTtl?: number;
}

interface Waiting {
  readonly options: Dispatcher.DispatchOptions;
  readonly handler: Dispatcher.DispatchHandler;
}

/**
 * The HTTP/1.1 connections of one origin, one request per connection at a time. undici's
 * Pool finds a free connection by scanning all of them on every request (twice when the one
 * it picks becomes busy); with a few hundred connections in use that scan was the largest
 * single cost of a call in the runtime's profile. Here free connections sit on a stack,
 * most recently used on top (the warmest socket; the rest may time out idle), so taking and
 * returning one is O(1). Requests beyond `connections` wait in arrival order.
 *
 * A connection is busy from the moment a request is dispatched on it until that request
 * completes or fails. undici's own 'drain' comes later than the response (after the caller
 * has read the body), so a caller's next request would find no free connection and open
 * another one: the pool frees a connection at completion instead.
 */
export class ClientPool extends Dispatcher {
  private readonly free: Client[] = [];
  private readonly clients = new Set<Client>();
  private readonly born = new WeakMap<Client, number>();
  private waiting: Waiting[] = [];
  private waitingHead = 0;
  private closing = false;
  private destroyed = false;
  private whenIdle: (() => void) | undefined;

  constructor(
    private readonly origin: string,
    private readonly options: ClientPoolOptions,
  ) {
    super();
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.closing || this.destroyed) {
      const error = this.destroyed ? new errors.ClientDestroyedError() : new errors.ClientClosedError();
      (handler as { onError?: (error: Error) => void }).onError?.(error);
      return false;
    }
    const client = this.take();
    if (!client) {
      this.waiting.push({ options, handler });
      return false;
    }
    this.send(client, options, handler);
    return this.free.length > 0 || this.clients.size < this.options.connections;
  }

  /** Connections open, and those of them free for a request. */
  get stats(): { connected: number; free: number } {
    let connected = 0;
    let free = 0;
    for (const client of this.clients) if (client.stats.connected) connected++;
    for (const client of this.free) if (client.stats.connected) free++;
    return { connected, free };
  }

  /** Lets queued and running requests finish, then closes every connection. */
  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | undefined {
    this.closing = true;
    const done = (async () => {
      if (this.queued() > 0) await new Promise<void>((resolve) => (this.whenIdle = resolve));
      await Promise.all([...this.clients].map((client) => client.close()));
    })();
    if (!callback) return done;
    void done.then(callback);
    return undefined;
  }

  /** Fails queued requests, aborts running ones and closes every connection now. */
  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(
    errorOrCallback?: Error | null | (() => void),
    maybeCallback?: () => void,
  ): Promise<void> | undefined {
    const callback = typeof errorOrCallback === "function" ? errorOrCallback : maybeCallback;
    const error = typeof errorOrCallback === "function" ? null : (errorOrCallback ?? null);
    this.destroyed = true;
    const reason = error ?? new errors.ClientDestroyedError();
    for (let index = this.waitingHead; index < this.waiting.length; index++) {
      const { handler } = this.waiting[index] as Waiting;
      (handler as { onError?: (error: Error) => void }).onError?.(reason);
    }
    this.waiting = [];
    this.waitingHead = 0;
    this.whenIdle?.();
    const done = Promise.all([...this.clients].map((client) => client.destroy(reason))).then(() => {});
    if (!callback) return done;
    void done.then(callback);
    return undefined;
  }

  private take(): Client | undefined {
    const ttl = this.options.clientTtl ?? 0;
    for (;;) {
      const client = this.free.pop();
      if (!client) break;
      if (ttl > 0 && Date.now() - (this.born.get(client) ?? 0) > ttl) this.retire(client);
      else return client;
    }
    return this.clients.size < this.options.connections ? this.open() : undefined;
  }

  private open(): Client {
    const client = new Client(this.origin, this.options);
    this.clients.add(client);
    this.born.set(client, Date.now());
    client.on("connect", () => {
      // A connection's age counts from its own connect (a client reconnects after a close).
      this.born.set(client, Date.now());
      this.emit("connect", new URL(this.origin), [this, client]);
    });
    // A connection that failed to connect errors the requests queued on it; it is not reused,
    // and the requests waiting for a connection get a new one.
    client.on("connectionError", () => {
      this.retire(client);
      this.refill();
    });
    return client;
  }

  private send(client: Client, options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
    const releasing = new ReleasingHandler(hooked(options, handler), () => this.released(client));
    client.dispatch(options, releasing.asDispatchHandler());
  }

  /** `client` can take a request again: give it the oldest waiting one, or put it back. */
  private released(client: Client): void {
    if (!this.clients.has(client)) return;
    const ttl = this.options.clientTtl ?? 0;
    if (ttl > 0 && Date.now() - (this.born.get(client) ?? 0) > ttl) {
      this.retire(client);
      this.refill();
      return;
    }
    const next = this.nextWaiting();
    if (next) {
      this.send(client, next.options, next.handler);
      return;
    }
    this.free.push(client);
    if (this.closing) this.whenIdle?.();
  }

  private retire(client: Client): void {
    this.clients.delete(client);
    const at = this.free.indexOf(client);
    if (at !== -1) this.free.splice(at, 1);
    void client.close().catch(() => {});
  }

  /** Opens connections for waiting requests, up to the limit. */
  private refill(): void {
    while (this.queued() > 0 && !this.destroyed && this.clients.size < this.options.connections) {
      this.released(this.open());
    }
  }

  private queued(): number {
    return this.waiting.length - this.waitingHead;
  }

  private nextWaiting(): Waiting | undefined {
    if (this.waitingHead >= this.waiting.length) return undefined;
    const next = this.waiting[this.waitingHead++] as Waiting;
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.waitingHead);
      this.waitingHead = 0;
    }
    return next;
  }
}
