import type { Logger } from "../dispatch/logger.js";
import { HttpListener } from "../io/listen.js";
import { addOwnListener } from "../io/own-listeners.js";
import type { DataStore } from "./data-store.js";
import { HopWebHandler, type WebRoute } from "./hop-web-handler.js";
import type { HostObserver } from "./host-observer.js";
import type { InvocationProfile } from "./invocation.js";
import type { WebListenerSpec } from "./module-spec.js";
import { webInWorkers } from "./reuse-port.js";
import type { WorkerPool } from "./worker-pool.js";
import { type WorkerRoutes, WorkerWebPath } from "./worker-web-path.js";

export type { WebRoute } from "./hop-web-handler.js";

/** Which thread takes a listener's requests: the pool's workers themselves, or the main thread. */
export type WebPath = "workers" | "main";

let listenerIds = 0;

/**
 * Serves web functions: any method on `/functions/<name>[/<rest>][?query]`, on one of two
 * paths. Where Node can share a port among sockets (`reusePort`, host/reuse-port.ts) and one
 * pool serves every function, that pool's workers listen themselves and serve each request
 * start to end (host/worker-web-path.ts). Otherwise, or when SWITCHBOARD_WEB_IN_WORKERS=0,
 * the main thread listens and hops each request to a worker (host/hop-web-handler.ts). A
 * reload may move the listener between paths; the port stays bound throughout.
 */
export class WebListener {
  private readonly l = ++listenerIds;
  private readonly hop: HopWebHandler;
  private inWorkers = false;
  private main: HttpListener | undefined;
  private workers: WorkerWebPath | undefined;
  /** Paths handed over by a reload, finishing their requests. */
  private readonly retired: Array<HttpListener | WorkerWebPath> = [];
  private boundPort = 0;
  private forget: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly spec: WebListenerSpec,
    private readonly routes: ReadonlyMap<string, WebRoute>,
    private readonly data: DataStore,
    nextId: () => number,
    private readonly logger: Logger,
    private readonly observer?: HostObserver,
    private readonly environment: NodeJS.ProcessEnv = process.env,
    /** False: the main thread listens whatever Node could do (switchboard dev; see RuntimeOptions). */
    private readonly workersAllowed = true,
  ) {
    this.hop = new HopWebHandler(spec.maxBodyBytes, routes, data, nextId, logger, observer);
  }

  async start(): Promise<number> {
    this.inWorkers = this.workersAllowed && (await webInWorkers(this.environment));
    const pool = this.servingPool();
    // The first bind is exclusive, so a port someone else holds fails as it always has (and
    // port 0 becomes a real one); sharing it is only for the sockets bound after.
    const first = this.mainListener(this.spec.port, false);
    this.boundPort = await first.start();
    if (this.inWorkers) {
      await first.stop();
      if (pool) await this.startWorkers(pool);
      else {
        this.main = this.mainListener(this.boundPort, true);
        await this.main.start();
      }
    } else this.main = first;
    this.forget = addOwnListener(this.spec.host, this.boundPort);
    return this.boundPort;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    const { host } = this.spec;
    return `http://${host.includes(":") ? `[${host}]` : host}:${this.boundPort}`;
  }

  /** Which path takes new connections now. */
  get path(): WebPath {
    return this.workers ? "workers" : "main";
  }

  /** Requests the main thread has hopped to a worker (none on the worker path, while a worker listens). */
  get hops(): number {
    return this.hop.hops;
  }

  /**
   * The host's web routes changed (a reload): keeps the path if it still fits, or hands the
   * port to the path that does (the new servers join first, then the old ones let go and
   * finish their requests).
   */
  async routesChanged(): Promise<void> {
    if (!this.inWorkers || this.stopped) return;
    const pool = this.servingPool();
    if (pool && this.workers?.pool === pool) {
      this.workers.setRoutes(this.workerRoutes());
      return;
    }
    if (!pool && this.main) return;
    const before = this.workers ?? this.main;
    if (pool) await this.startWorkers(pool);
    else {
      const main = this.mainListener(this.boundPort, true);
      await main.start();
      this.main = main;
      this.workers = undefined;
    }
    if (!before) return;
    this.retired.push(before);
    if (before instanceof WorkerWebPath) void before.stop(false);
    else before.release();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.forget?.();
    this.forget = undefined;
    await this.workers?.stop(true);
    await this.main?.stop();
    for (const path of this.retired) await (path instanceof WorkerWebPath ? path.stop(true) : path.stop());
  }

  private async startWorkers(pool: WorkerPool): Promise<void> {
    const workers = new WorkerWebPath(
      this.l,
      this.spec,
      this.boundPort,
      pool,
      this.workerRoutes(),
      this.hop,
      {
        data: this.data,
        logger: this.logger,
        observer: this.observer,
      },
    );
    await workers.start();
    this.workers = workers;
    this.main = undefined;
  }

  /** The one pool serving every web function, when there is one. */
  private servingPool(): WorkerPool | undefined {
    let pool: WorkerPool | undefined;
    for (const route of this.routes.values()) {
      if (pool && route.pool !== pool) return undefined;
      pool = route.pool;
    }
    return pool;
  }

  private workerRoutes(): WorkerRoutes {
    const profiles = new Map<string, InvocationProfile>();
    const routes = [...this.routes].map(([name, route]) => {
      profiles.set(name, route.profile);
      const { timeoutMs, timeoutSetting } = route.profile;
      return { name, input: route.info.input, timeoutMs, timeoutSetting };
    });
    return { routes, profiles };
  }

  private mainListener(port: number, reusePort: boolean): HttpListener {
    return new HttpListener(
      {
        host: this.spec.host,
        port,
        what: "web function listener",
        movedBy: "move it with `port:` of its io.switchboard.functions.v1/web component in the module YAML",
        closeConnectionsOnStop: true,
        reusePort,
        recordOwn: false,
        limits: this.spec,
      },
      this.hop.handle,
    );
  }
}
