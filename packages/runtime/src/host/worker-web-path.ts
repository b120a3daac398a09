import type { Logger } from "../dispatch/logger.js";
import { IoErrors } from "../errors/io-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { HttpListener } from "../io/listen.js";
import type { HopWebHandler } from "./hop-web-handler.js";
import type { InvocationProfile } from "./invocation.js";
import type { WebListenerSpec } from "./module-spec.js";
import type { WebFromWorker, WorkerListenSpec, WorkerWebRoute } from "./worker/web-messages.js";
import type { Slot, WorkerPool } from "./worker-pool.js";
import type { HubContext, HubMember } from "./worker-web-hub.js";

/** How long a worker may take to stop listening before the host stops waiting. */
const CLOSE_WAIT_MS = 5000;

/** The functions a worker serves, with what the host applies to each. */
export interface WorkerRoutes {
  readonly routes: readonly WorkerWebRoute[];
  readonly profiles: ReadonlyMap<string, InvocationProfile>;
}

/**
 * One web listener served by the workers of one pool: each worker listens on the listener's
 * port itself (`reusePort`) and the kernel spreads connections over them, so a request never
 * crosses to the main thread. A worker that is replaced listens again once it is ready; while
 * no worker listens (the only one died) the main thread holds the port and serves by
 * hopping to the pool, which queues requests until a worker is back.
 */
export class WorkerWebPath implements HubMember {
  private readonly listening = new Set<Slot>();
  private readonly pending = new Map<Slot, { resolve(): void; reject(error: Error): void }>();
  private readonly closing = new Map<Slot, () => void>();
  private standIn: HttpListener | undefined;
  private readonly standIns: HttpListener[] = [];
  private stopped = false;

  constructor(
    readonly l: number,
    private readonly spec: WebListenerSpec,
    private readonly port: number,
    readonly pool: WorkerPool,
    private routes: WorkerRoutes,
    private readonly hop: HopWebHandler,
    private readonly context: HubContext,
  ) {}

  private get logger(): Logger {
    return this.context.logger;
  }

  /** Every ready worker listens; fails (as a listen failure) if one cannot. */
  async start(): Promise<void> {
    this.pool.web.attach(this, this.context, this.routes.profiles);
    const slots = this.pool.web.readySlots();
    try {
      await Promise.all(slots.map((slot) => this.listen(slot)));
    } catch (error) {
      await this.stop(true);
      throw error;
    }
    if (this.listening.size === 0) await this.holdPort();
  }

  /** New functions (a reload that kept the pool): each listening worker takes them. */
  setRoutes(routes: WorkerRoutes): void {
    this.routes = routes;
    this.pool.web.setProfiles(routes.profiles);
    for (const slot of this.listening) this.send(slot);
  }

  /**
   * Stops every worker's server: `hard` (the host stopping) cuts requests in flight; else
   * (handing the port to another pool or the main thread) they finish, and the pool counts
   * them until they have.
   */
  async stop(hard: boolean): Promise<void> {
    this.stopped = true;
    const closed = [...this.listening].map((slot) => this.close(slot, hard));
    this.listening.clear();
    for (const waiter of this.pending.values()) waiter.reject(new Error("the listener stopped"));
    this.pending.clear();
    await Promise.all(closed);
    this.pool.web.detach(this);
    for (const standIn of this.standIns) await standIn.stop();
  }

  slotReady(slot: Slot): void {
    if (this.stopped || this.listening.has(slot) || this.pending.has(slot)) return;
    this.listen(slot)
      .then(() => this.releasePort())
      .catch((error: Error) => {
        this.logger.error({ worker: slot.index, err: error.message }, "a replaced worker could not listen");
      });
  }

  slotLost(slot: Slot): void {
    this.listening.delete(slot);
    this.pending.get(slot)?.reject(new Error("the worker exited before it listened"));
    this.pending.delete(slot);
    this.closing.get(slot)?.();
    if (!this.stopped && this.listening.size === 0) {
      this.holdPort().catch((error: Error) => {
        this.logger.error({ err: error.message }, "the main thread could not hold the web port");
      });
    }
  }

  onMessage(slot: Slot, message: Extract<WebFromWorker, { l: number }>): void {
    switch (message.t) {
      case "web-listening": {
        const waiter = this.pending.get(slot);
        this.pending.delete(slot);
        if (this.stopped) {
          void this.close(slot, true);
          return;
        }
        this.listening.add(slot);
        waiter?.resolve();
        return;
      }
      case "web-listen-failed": {
        const waiter = this.pending.get(slot);
        this.pending.delete(slot);
        waiter?.reject(
          new SwitchboardError(
            IoErrors.LISTEN_FAILED,
            `web function listener cannot listen on ${this.spec.host}:${this.port} in a worker: ${message.error.message}`,
            { host: this.spec.host, port: this.port },
          ),
        );
        return;
      }
      case "web-closed":
        this.closing.get(slot)?.();
        return;
    }
  }

  private listen(slot: Slot): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.set(slot, { resolve, reject });
      this.send(slot);
    });
  }

  private send(slot: Slot): void {
    slot.outbox.send({ t: "web-listen", l: this.l, spec: this.workerSpec(), routes: this.routes.routes });
  }

  private workerSpec(): WorkerListenSpec {
    const { spec } = this;
    return {
      host: spec.host,
      port: this.port,
      requestTimeout: spec.requestTimeout,
      headersTimeout: spec.headersTimeout,
      // The kernel spreads connections evenly, so each worker takes its share of the limit.
      maxConnections: Math.max(1, Math.ceil(spec.maxConnections / Math.max(1, this.pool.size))),
      maxBodyBytes: spec.maxBodyBytes,
      observe: this.context.observer !== undefined,
    };
  }

  private close(slot: Slot, hard: boolean): Promise<void> {
    if (!hard) this.pool.web.draining++;
    return new Promise<void>((resolve) => {
      const done = () => {
        if (!this.closing.has(slot)) return;
        this.closing.delete(slot);
        clearTimeout(timer);
        if (!hard) this.pool.web.draining--;
        resolve();
      };
      const timer = setTimeout(done, hard ? CLOSE_WAIT_MS : 60_000).unref();
      this.closing.set(slot, done);
      slot.outbox.send({ t: "web-close", l: this.l, hard });
    });
  }

  /** No worker listens: the main thread takes connections meanwhile, serving them by hopping. */
  private async holdPort(): Promise<void> {
    if (this.standIn) return;
    const standIn = new HttpListener(
      {
        host: this.spec.host,
        port: this.port,
        what: "web function listener",
        closeConnectionsOnStop: true,
        reusePort: true,
        recordOwn: false,
        limits: this.spec,
      },
      this.hop.handle,
    );
    this.standIn = standIn;
    this.standIns.push(standIn);
    await standIn.start();
    this.logger.warn(
      { port: this.port },
      "no worker listens on the web port; the main thread serves it meanwhile",
    );
    if (this.listening.size > 0) this.releasePort();
  }

  private releasePort(): void {
    if (!this.standIn || this.listening.size === 0) return;
    this.standIn.release();
    this.standIn = undefined;
  }
}
