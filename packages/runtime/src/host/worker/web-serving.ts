import type { AsyncLocalStorage } from "node:async_hooks";
import type { IncomingMessage } from "node:http";
import type { WebFunction } from "@switchboard/sdk";
import type { DataRef } from "@switchboard/sdk/internal";
import type { HostLink } from "./host-link.js";
import { serializeError } from "./messages.js";
import { movableBuffer } from "./movable-buffer.js";
import type { ServedRequest } from "./served-request.js";
import type { WebToWorker } from "./web-messages.js";
import { WorkerWebServer } from "./web-server.js";

/** Ids of requests a worker serves: negative (the host's own are positive), by worker lane. */
const LANE_SPAN = 2 ** 32;
/** How often deadlines are checked: a request fails at most this much after its time limit. */
const SWEEP_MS = 50;
/**
 * How often figures for metrics are sent. Per event-loop turn, as the outbox would, cost the
 * worker a postMessage for every few requests (3 % of its time under load, a third of its
 * socket writes) and woke the main thread as often.
 */
const SEEN_MS = 100;

/**
 * A worker's side of the worker path: its servers (one per web listener that asked it to
 * listen), the requests they are serving, the bodies the host is reading, and the figures
 * for metrics, sent once per event-loop turn.
 */
export class WebServing {
  private readonly servers = new Map<number, WorkerWebServer>();
  private readonly served = new Map<number, ServedRequest>();
  private readonly bodies = new Map<number, BodyPump>();
  private seenBatch: Array<string | number> = [];
  private counter = 0;

  constructor(
    private readonly lane: number,
    readonly fns: ReadonlyMap<string, WebFunction>,
    readonly link: HostLink,
    private readonly invocation: AsyncLocalStorage<number>,
  ) {}

  nextId(): number {
    return -(this.lane * LANE_SPAN + ++this.counter);
  }

  /** The request `id` this worker serves, if it is one (host calls from it are answered differently). */
  request(id: number): ServedRequest | undefined {
    return id < 0 ? this.served.get(id) : undefined;
  }

  run<T>(id: number, work: () => Promise<T>): Promise<T> {
    return this.invocation.run(id, work);
  }

  open(request: ServedRequest): ServedRequest {
    this.served.set(request.id, request);
    this.sweeper ??= setInterval(this.sweep, SWEEP_MS);
    return request;
  }

  private sweeper: NodeJS.Timeout | undefined;

  private readonly sweep = () => {
    if (this.served.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      return;
    }
    const now = performance.now();
    for (const request of this.served.values()) request.expireIfDue(now);
  };

  /** A `data` body stays in this thread; the host pulls it as it is read or relayed. */
  openBody(served: ServedRequest, request: IncomingMessage): DataRef {
    this.bodies.set(served.id, new BodyPump(served.id, request, this.link));
    served.known = true;
    this.link.send({ t: "body-open", id: served.id, fn: served.route.name, left: served.left });
    return { id: served.id };
  }

  /** The request is over (closing twice is harmless): the host hears of it if it knows it. */
  close(served: ServedRequest): void {
    served.disarm();
    if (!this.served.delete(served.id)) return;
    const body = this.bodies.get(served.id);
    if (body) {
      this.bodies.delete(served.id);
      body.release();
    }
    if (served.known) {
      const { error } = served;
      this.link.send({ t: "web-ended", id: served.id, ...(error ? { error: serializeError(error) } : {}) });
    }
  }

  seen(route: string, status: number, seconds: number): void {
    if (this.seenBatch.length === 0) setTimeout(this.flushSeen, SEEN_MS);
    this.seenBatch.push(route, status, seconds);
  }

  private readonly flushSeen = () => {
    const seen = this.seenBatch;
    this.seenBatch = [];
    this.link.send({ t: "web-seen", seen });
  };

  /** Handles a web message from the host; false when `message` is not one. */
  onMessage(message: WebToWorker): void {
    switch (message.t) {
      case "web-listen":
        void this.listen(message);
        return;
      case "web-close":
        void this.closeServer(message.l, message.hard);
        return;
      case "body-pull":
        void this.bodies.get(message.id)?.pull();
        return;
      case "body-release": {
        const body = this.bodies.get(message.id);
        this.bodies.delete(message.id);
        body?.release();
        return;
      }
      case "beat":
        this.link.send({ t: "beat-ack", n: message.n });
        return;
    }
  }

  private async listen(message: Extract<WebToWorker, { t: "web-listen" }>): Promise<void> {
    const running = this.servers.get(message.l);
    if (running) {
      running.setRoutes(message.routes);
      this.link.send({ t: "web-listening", l: message.l });
      return;
    }
    const server = new WorkerWebServer(message.spec, message.routes, this);
    this.servers.set(message.l, server);
    try {
      await server.start();
      this.link.send({ t: "web-listening", l: message.l });
    } catch (error) {
      this.servers.delete(message.l);
      this.link.send({ t: "web-listen-failed", l: message.l, error: serializeError(error) });
    }
  }

  private async closeServer(l: number, hard: boolean): Promise<void> {
    const server = this.servers.get(l);
    this.servers.delete(l);
    await server?.close(hard);
    this.link.send({ t: "web-closed", l });
  }
}

/** A request body the host reads through a Data handle: one chunk per pull, so it is bounded. */
class BodyPump {
  private iterator: AsyncIterator<Buffer> | undefined;

  constructor(
    private readonly id: number,
    private readonly request: IncomingMessage,
    private readonly link: HostLink,
  ) {}

  async pull(): Promise<void> {
    try {
      this.iterator ??= this.request[Symbol.asyncIterator]();
      const next = await this.iterator.next();
      if (next.done) {
        this.link.send({ t: "body-chunk", id: this.id, bytes: null });
        return;
      }
      const chunk: Uint8Array = next.value;
      this.link.send({ t: "body-chunk", id: this.id, bytes: chunk }, movableBuffer(chunk));
    } catch (error) {
      this.link.send({
        t: "body-chunk",
        id: this.id,
        bytes: null,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** Drops what the host did not read, so the connection can carry the next request. */
  release(): void {
    if (!this.request.complete) this.request.resume();
  }
}
