import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "../dispatch/logger.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { sendError } from "../io/http-util.js";
import { closeServer, listen } from "../io/listen.js";
import type { AdminContext } from "./admin-context.js";
import { parseRequest, route } from "./admin-routes.js";

/**
 * The admin port: health, readiness, Prometheus metrics, the JSON admin API and the live
 * page. It binds loopback by default: the API can move and drop messages.
 */
export class AdminServer {
  private server: Server | undefined;
  private boundPort = 0;

  constructor(
    private readonly context: AdminContext,
    private readonly host: string,
    private readonly port: number,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<number> {
    this.server = createServer((request, response) => void this.handle(request, response));
    this.boundPort = await listen(this.server, this.port, this.host, "admin server");
    return this.boundPort;
  }

  get url(): string {
    return `http://${this.host.includes(":") ? `[${this.host}]` : this.host}:${this.boundPort}`;
  }

  /** Cuts open connections too: a live page polls on keep-alive and would hold close() forever. */
  async stop(): Promise<void> {
    if (!this.server) return;
    const closed = closeServer(this.server);
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      // Admin requests carry no body we read; drain anything sent so keep-alive stays usable.
      request.resume();
      const parsed = parseRequest(request);
      await route(parsed)(this.context, parsed, response);
    } catch (error) {
      if (!(error instanceof SwitchboardError)) {
        this.logger.error({ err: error, path: request.url?.split("?")[0] }, "admin request failed");
      }
      sendError(response, error);
    }
  }
}
