import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeToFunction, encodeFromFunction } from "@switchboard/sdk/protocol";
import type { ProtocolFunction } from "./protocol-function.js";

export interface FunctionServer {
  readonly url: string;
  readonly port: number;
  /** While true, every request is answered 503. */
  down: boolean;
  /** While set, every request waits for it before being answered. */
  hold: Promise<void> | undefined;
  /** Every request is answered this long after it arrived (a slow endpoint); 0 = at once. */
  delayMs: number;
  /** Request headers of the last request, lower-case names. */
  readonly lastHeaders: Record<string, string | string[] | undefined>;
  requests: number;
  close(): Promise<void>;
}

/** Serves ProtocolFunctions over real loopback HTTP at /<name>, the way an SDK server would. */
export async function startFunctionServer(
  functions: Record<string, ProtocolFunction>,
): Promise<FunctionServer> {
  const state: {
    down: boolean;
    requests: number;
    hold: Promise<void> | undefined;
    delayMs: number;
    lastHeaders: Record<string, string | string[] | undefined>;
  } = { down: false, requests: 0, hold: undefined, delayMs: 0, lastHeaders: {} };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      state.requests++;
      state.lastHeaders = request.headers;
      if (state.hold) await state.hold;
      if (state.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
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
    get hold() {
      return state.hold;
    },
    set hold(value: Promise<void> | undefined) {
      state.hold = value;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(value: number) {
      state.delayMs = value;
    },
    get lastHeaders() {
      return state.lastHeaders;
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
