import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { IoErrors } from "../errors/io-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import {
  type ClientLimits,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from "./listen-spec.js";
import { addOwnListener } from "./own-listeners.js";

/** Why a listen failed, in a user's words, from Node's error code. */
function reason(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case "EADDRINUSE":
      return "the port is taken (EADDRINUSE)";
    case "EACCES":
      return "not allowed to bind it (EACCES)";
    case "EADDRNOTAVAIL":
      return "no such address on this machine (EADDRNOTAVAIL)";
    default:
      return error.code ?? error.message;
  }
}

/**
 * Listens and resolves with the bound port; a port that cannot be bound becomes
 * SB_IO_LISTEN_FAILED, one line ending in `movedBy` (the flag or setting that moves it).
 */
export function listen(
  server: Server,
  port: number,
  host: string,
  what: string,
  movedBy?: string,
  reusePort = false,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const hint = movedBy ? `; ${movedBy}` : "";
      reject(
        new SwitchboardError(
          IoErrors.LISTEN_FAILED,
          `${what} cannot listen on ${host}:${port}: ${reason(error)}${hint}`,
          { host, port },
        ),
      );
    };
    server.once("error", onError);
    // reusePort: several servers (one per worker thread) share the port; see host/reuse-port.ts.
    server.listen({ port, host, ...(reusePort ? { reusePort: true } : {}) }, () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections?.();
  });
}

export interface HttpListenerOptions {
  readonly host: string;
  readonly port: number;
  /** Names the server in a listen error: "playground ingress", "admin server", ... */
  readonly what: string;
  /** Ends a listen error: how to move the port ("move it with --admin-port ..."). */
  readonly movedBy?: string;
  /**
   * Cut open keep-alive connections on stop: for servers whose clients poll (the admin
   * page) or hold requests open (web functions), which would otherwise hold close() forever.
   */
  readonly closeConnectionsOnStop?: boolean;
  /** Slow and too many clients; defaults in listen-spec.ts. */
  readonly limits?: Partial<ClientLimits>;
  /** Share the port with other sockets that set it too (Linux SO_REUSEPORT, Node >= 22.12). */
  readonly reusePort?: boolean;
  /** Record the port as one of this process's own (default); false when the owner records it. */
  readonly recordOwn?: boolean;
}

/**
 * How often Node looks for requests past their time (its default, 30 s, would let a
 * request outlive a 10 s limit by half a minute).
 */
const TIMEOUT_CHECK_MS = 1000;
/** How long requests being received may finish when a listener stops. */
const STOP_GRACE_MS = 2000;

/**
 * One HTTP server of Switchboard's own (ingress, egress, web functions, admin): listens on
 * start, knows its bound port and URL, stops cleanly. The owner supplies the handler.
 */
export class HttpListener {
  private server: Server | undefined;
  private boundPort = 0;
  private forget: (() => void) | undefined;
  private released = false;

  constructor(
    private readonly options: HttpListenerOptions,
    private readonly handler: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  ) {}

  async start(): Promise<number> {
    const limits = this.options.limits ?? {};
    const requestTimeout = limits.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const server = createServer(
      {
        requestTimeout,
        // Node refuses a headers timeout above the request timeout.
        headersTimeout: Math.min(limits.headersTimeout ?? DEFAULT_HEADERS_TIMEOUT_MS, requestTimeout),
        connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_MS, requestTimeout),
      },
      (request, response) => {
        // A released listener closes each connection after its answer, so keep-alive clients
        // move to the servers that took the port over.
        if (this.released) response.shouldKeepAlive = false;
        void this.handler(request, response);
      },
    );
    server.maxConnections = limits.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    // Longer than the usual client idle timeouts, so clients close first and never race a reuse.
    server.keepAliveTimeout = 65_000;
    this.server = server;
    this.boundPort = await listen(
      server,
      this.options.port,
      this.options.host,
      this.options.what,
      this.options.movedBy,
      this.options.reusePort,
    );
    // Hosted functions' outbound calls are refused here unless explicitly allowed.
    if (this.options.recordOwn !== false) this.forget = addOwnListener(this.options.host, this.boundPort);
    return this.boundPort;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    const { host } = this.options;
    return `http://${host.includes(":") ? `[${host}]` : host}:${this.boundPort}`;
  }

  /**
   * Stops taking connections and closes idle ones, but lets requests in flight (and their
   * keep-alive connections) go on: for handing a shared port over to other servers without
   * cutting anyone. `stop` still cuts what is left.
   */
  release(): void {
    if (!this.server) return;
    this.released = true;
    this.forget?.();
    this.forget = undefined;
    void closeServer(this.server);
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.forget?.();
    this.forget = undefined;
    const server = this.server;
    const closed = closeServer(server);
    if (this.options.closeConnectionsOnStop) server.closeAllConnections();
    // close() also stops Node's request timeouts: a client that connected and sent nothing,
    // or is dripping a request, would otherwise hold the stop forever.
    const cutOff = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS);
    await closed;
    clearTimeout(cutOff);
  }
}
