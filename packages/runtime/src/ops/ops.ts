import type { Logger } from "../dispatch/logger.js";
import { checkAdminExposure } from "./admin-access.js";
import type { AdminContext } from "./admin-context.js";
import { AdminServer } from "./admin-server.js";
import { ClusterFigures, clusterGaugeFigures } from "./cluster-view.js";
import { StoreFigures } from "./store-figures.js";

export interface AdminOptions {
  /** Port of the admin server; undefined = no admin server (metrics are still counted). */
  readonly port?: number;
  /** Interface to bind; default 127.0.0.1. */
  readonly host?: string;
  /** Bearer token admin actions need; required when `host` is not loopback. */
  readonly token?: string;
}

/**
 * The operations side of one runtime: wires scrape-time metric sources and runs the admin
 * server. Started last by Runtime.start, so readiness means everything else is up.
 */
export class Ops {
  private isReady = false;

  private constructor(
    private readonly server: AdminServer | undefined,
    readonly context: AdminContext,
  ) {}

  static async start(
    parts: Omit<AdminContext, "ready" | "startedAt" | "storeFigures" | "clusterFigures">,
    options: AdminOptions,
    logger: Logger,
  ): Promise<Ops> {
    let ops: Ops | undefined;
    const storeFigures = new StoreFigures(parts.store);
    const clusterFigures = parts.cluster ? new ClusterFigures(parts.cluster) : undefined;
    const context: AdminContext = {
      ...parts,
      storeFigures,
      clusterFigures,
      startedAt: Date.now(),
      ready: () => ops?.isReady ?? false,
    };
    const { dispatcher, transport } = parts;
    // A scrape never waits for the store: it shows the counts of the last recount (at most
    // a second old while scrapes keep coming) and starts the next one in the background.
    parts.metrics.setSource(() => ({
      dispatcher: dispatcher.stats(),
      ...storeFigures.latest(),
      origins: transport.stats(),
    }));
    if (clusterFigures) {
      const member = clusterFigures.member;
      // Like the store counts: the cluster figures are read at most once a second, never per scrape.
      parts.metrics.addCluster({
        figures: () => clusterGaugeFigures(clusterFigures),
        ownershipChanges: () => member.ownershipChanges(),
      });
      // The first reading, so the first scrape already has one.
      clusterFigures.latest();
    }
    const access = { host: options.host ?? "127.0.0.1", token: options.token };
    if (options.port !== undefined) checkAdminExposure(access);
    const server =
      options.port === undefined ? undefined : new AdminServer(context, access, options.port, logger);
    ops = new Ops(server, context);
    if (server) {
      await server.start();
      logger.info({ url: server.url }, "admin server listening");
    }
    return ops;
  }

  /** The admin server's bound port, or undefined when it is off. */
  get adminPort(): number | undefined {
    return this.server?.boundPort;
  }

  /** `http://host:port` of the admin server, or undefined when it is off. */
  get adminUrl(): string | undefined {
    return this.server?.url;
  }

  markReady(): void {
    this.isReady = true;
  }

  /** Readiness goes false first, so load balancers stop sending before anything closes. */
  markStopping(): void {
    this.isReady = false;
  }

  async stop(): Promise<void> {
    this.isReady = false;
    await this.server?.stop();
  }
}
