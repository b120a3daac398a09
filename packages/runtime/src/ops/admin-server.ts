import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../dispatch/logger.js";
import { AdminErrors } from "../errors/admin-errors.js";
import { isError, SwitchboardError } from "../errors/switchboard-error.js";
import { sendError } from "../io/http-util.js";
import { HttpListener } from "../io/listen.js";
import { type AdminAccess, checkAdminRequest } from "./admin-access.js";
import type { AdminContext } from "./admin-context.js";
import { parseRequest, route } from "./admin-routes.js";

/**
 * The admin port: health, readiness, Prometheus metrics, the JSON admin API and the live
 * page. It binds loopback by default: the API can move and drop messages. Every request
 * passes checkAdminRequest first (Host, Origin, token).
 */
export class AdminServer {
  private readonly listener: HttpListener;

  constructor(
    private readonly context: AdminContext,
    private readonly access: AdminAccess,
    private readonly port: number,
    private readonly logger: Logger,
  ) {
    this.listener = new HttpListener(
      {
        host: this.access.host,
        port: this.port,
        what: "admin server",
        movedBy: "move it with --admin-port <port> (or turn it off with --no-admin)",
        closeConnectionsOnStop: true,
      },
      (request, response) => this.handle(request, response),
    );
  }

  async start(): Promise<number> {
    return this.listener.start();
  }

  /** The bound port (the one asked for, or the one the system chose for 0). */
  get boundPort(): number {
    return this.listener.port;
  }

  get url(): string {
    return this.listener.url;
  }

  async stop(): Promise<void> {
    await this.listener.stop();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      // Admin requests carry no body we read; drain anything sent so keep-alive stays usable.
      request.resume();
      checkAdminRequest(request, this.access, this.listener.port);
      const parsed = parseRequest(request);
      await route(parsed)(this.context, parsed, response);
    } catch (error) {
      if (!(error instanceof SwitchboardError)) {
        this.logger.error({ err: error, path: request.url?.split("?")[0] }, "admin request failed");
      }
      sendError(
        response,
        error,
        isError(error, AdminErrors.UNAUTHORIZED)
          ? { "www-authenticate": 'Bearer realm="switchboard admin"' }
          : {},
      );
    }
  }
}
