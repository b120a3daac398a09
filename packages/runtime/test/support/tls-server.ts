import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import { createServer } from "node:https";
import type { AddressInfo, Server } from "node:net";
import type { TLSSocket } from "node:tls";
import type { TestCertificates } from "./certificates.js";

export interface TlsTestServer {
  /** https://127.0.0.1:port or https+unix:///path.sock */
  readonly url: string;
  /** What each request saw: the HTTP version and the client certificate's subject, if any. */
  readonly seen: Array<{ httpVersion: string; encrypted: boolean; clientSubject: string | undefined }>;
  close(): Promise<void>;
}

export interface TlsServerOptions {
  readonly certificates: TestCertificates;
  /** Require a client certificate signed by the test CA (mTLS). */
  readonly requireClientCert?: boolean;
  /** Serve HTTP/2 only (no HTTP/1.1 fallback). */
  readonly http2?: boolean;
  readonly socketPath?: string;
}

/** An HTTPS (or HTTP/2) server answering "ok", on loopback or a UNIX socket. */
export async function startTlsServer(options: TlsServerOptions): Promise<TlsTestServer> {
  const { certificates } = options;
  const seen: TlsTestServer["seen"] = [];
  const tls = {
    cert: readFileSync(certificates.serverCert),
    key: readFileSync(certificates.serverKey),
    ca: readFileSync(certificates.ca),
    requestCert: options.requireClientCert === true,
    rejectUnauthorized: options.requireClientCert === true,
  };
  const handler = (
    request: IncomingMessage | Http2ServerRequest,
    response: ServerResponse | Http2ServerResponse,
  ) => {
    const socket = request.socket as TLSSocket;
    const peer = socket.getPeerCertificate?.();
    seen.push({
      httpVersion: request.httpVersion,
      encrypted: socket.encrypted === true,
      clientSubject: [peer?.subject?.CN].flat()[0],
    });
    response.end("ok");
  };
  const server: Server = options.http2 ? createSecureServer(tls, handler) : createServer(tls, handler);
  const sockets = new Set<import("node:net").Socket>();
  server.on("connection", (socket: import("node:net").Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // A failed handshake is the point of some tests, not a server fault.
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) =>
    options.socketPath ? server.listen(options.socketPath, resolve) : server.listen(0, "127.0.0.1", resolve),
  );
  const url = options.socketPath
    ? `https+unix://${options.socketPath}`
    : `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
