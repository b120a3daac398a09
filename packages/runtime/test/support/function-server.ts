import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeToFunction, encodeFromFunction } from "@switchboard/sdk/protocol";
import type { ProtocolFunction } from "./protocol-function.js";

export interface FunctionServer {
  readonly url: string;
  readonly port: number;
  /** While true, every request is answered 503. */
  down: boolean;
  requests: number;
  close(): Promise<void>;
}

/** Serves ProtocolFunctions over real loopback HTTP at /<name>, the way an SDK server would. */
export async function startFunctionServer(
  functions: Record<string, ProtocolFunction>,
): Promise<FunctionServer> {
  const state = { down: false, requests: 0 };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      state.requests++;
      if (state.down) {
        response.writeHead(503).end();
        return;
      }
      try {
        const toFunction = decodeToFunction(Buffer.concat(chunks));
        const target = toFunction.request.case === "invocation" ? toFunction.request.value.target : undefined;
        const fn = functions[`${target?.namespace}/${target?.type}`];
        if (!fn) {
          response.writeHead(404).end();
          return;
        }
        const body = encodeFromFunction(fn.handle(toFunction));
        response.writeHead(200, {
          "content-type": "application/octet-stream",
          "content-length": body.length,
        });
        response.end(body);
      } catch {
        response.writeHead(500).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get down() {
      return state.down;
    },
    set down(value: boolean) {
      state.down = value;
    },
    get requests() {
      return state.requests;
    },
    set requests(value: number) {
      state.requests = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A free loopback port (bound then released; fine for tests on one machine). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
