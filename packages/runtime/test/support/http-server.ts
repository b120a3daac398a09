import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestContext } from "node:test";

export interface TestServer {
  readonly url: string;
  readonly server: Server;
  /** Sockets the server accepted: proves pooling and rotation. */
  readonly sockets: () => number;
  close(): Promise<void>;
}

/** A loopback (or UNIX socket) HTTP server that counts accepted connections. */
export async function startServer(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  socketPath?: string,
): Promise<TestServer> {
  let sockets = 0;
  const server = createServer(handler);
  server.on("connection", () => {
    sockets++;
  });
  await new Promise<void>((resolve) =>
    socketPath ? server.listen(socketPath, resolve) : server.listen(0, "127.0.0.1", resolve),
  );
  const url = socketPath
    ? `http+unix://${socketPath}`
    : `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    server,
    sockets: () => sockets,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The server `server` resolves to, closed when test `t` ends. */
export async function serve(t: TestContext, server: Promise<TestServer>): Promise<TestServer> {
  const started = await server;
  t.after(() => started.close());
  return started;
}

/** A loopback server that lives as long as test `t`; resolves to its base URL. */
export async function upstream(
  t: import("node:test").TestContext,
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<string> {
  const server = await startServer(handler);
  t.after(() => server.close());
  return server.url;
}
