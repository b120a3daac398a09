import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { DataRef, WireWebRequest, WireWebResponse } from "@switchboard/sdk/internal";
import type { Logger } from "../dispatch/logger.js";
import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { readBody, sendJson } from "../io/http-util.js";
import type { DataStore } from "./data-store.js";
import type { FunctionTarget } from "./function-targets.js";
import { type HostObserver, UNKNOWN_WEB_ROUTE } from "./host-observer.js";
import type { RunningInvocation } from "./running-invocation.js";
import { failureAnswer, logFailedAfterStart } from "./web-failure.js";
import { headerPairs, responseHead, sendBuffered, unknownWebFunction, webTarget } from "./web-http.js";
import type { WebFunctionInfo } from "./worker/messages.js";

export interface WebRoute extends FunctionTarget {
  readonly info: WebFunctionInfo;
}

/**
 * Serves web requests in the main thread, each run on a worker of its function's pool: the
 * request crosses to the worker and the answer back (two thread hops). Bodies for
 * bytes/text/json input are read here (bounded); a `data` input stays a stream in the host.
 * The path of every Node without `reusePort`, of listeners whose functions live in several
 * pools, and the stand-in while no worker holds a shared port (host/worker-web-path.ts).
 */
export class HopWebHandler {
  /** Requests served by hopping to a worker (tests and the worker path's checks). */
  hops = 0;

  constructor(
    private readonly maxBodyBytes: number,
    private readonly routes: ReadonlyMap<string, WebRoute>,
    private readonly data: DataStore,
    private readonly nextId: () => number,
    private readonly logger: Logger,
    private readonly observer?: HostObserver,
  ) {}

  readonly handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const id = this.nextId();
    this.hops++;
    const started = this.observer ? performance.now() : 0;
    // The function's name once it is known to be one: the requested name never becomes a label.
    let routeName = UNKNOWN_WEB_ROUTE;
    let invocation: RunningInvocation | undefined;
    try {
      const target = webTarget(request.url);
      const route = this.routes.get(target.name);
      if (!route) throw unknownWebFunction(target.name);
      routeName = target.name;
      const body = await this.bodyRef(id, route.info, request);
      const wire: WireWebRequest = {
        name: target.name,
        method: request.method ?? "GET",
        path: target.path,
        rawQuery: target.rawQuery,
        headers: headerPairs(request.rawHeaders),
        invocationId: String(id),
        body,
      };
      invocation = route.pool.run(id, { kind: "web", request: wire }, route.profile);
      const running = invocation;
      response.on("close", () => {
        if (!response.writableFinished)
          route.pool.cancel(running, new SwitchboardError(HostErrors.CLIENT_GONE, "the client went away"));
      });
      const result = (await running.result) as WireWebResponse;
      await this.respond(id, running, result, response);
    } catch (error) {
      this.fail(id, request, response, error);
    } finally {
      this.data.releaseAll(id);
      // Measured to the end of the response, streamed bodies included.
      this.observer?.observeWebRequest(routeName, response.statusCode, (performance.now() - started) / 1000);
    }
  };

  private async bodyRef(id: number, info: WebFunctionInfo, request: IncomingMessage): Promise<DataRef> {
    if (info.input === "data") {
      return {
        id: this.data.put(id, {
          kind: "stream",
          stream: request,
          consumed: false,
          release: () => request.resume(),
        }),
      };
    }
    try {
      const body = await readBody(request, this.maxBodyBytes);
      // A small body is often a view into a larger pooled buffer, and posting a view clones
      // its whole buffer: copy the bytes out so the worker gets exactly them.
      return {
        bytes:
          body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : new Uint8Array(body),
      };
    } catch (error) {
      if (error instanceof SwitchboardError) {
        throw new SwitchboardError(HostErrors.BODY_TOO_LARGE, error.message, error.details);
      }
      throw error;
    }
  }

  private async respond(
    id: number,
    invocation: RunningInvocation,
    result: WireWebResponse,
    response: ServerResponse,
  ): Promise<void> {
    const { body } = result;
    if (body.kind === "none") {
      sendBuffered(response, result.status, result.headers, undefined);
      return;
    }
    if (body.kind === "bytes" || (body.kind === "data" && this.data.get(id, body.id).kind === "bytes")) {
      const bytes =
        body.kind === "bytes" ? body.bytes : (this.data.get(id, body.id) as { bytes: Uint8Array }).bytes;
      sendBuffered(response, result.status, result.headers, bytes);
      return;
    }
    if (body.kind === "data") {
      // A relayed stream outlives the invocation: it belongs to the response from here on.
      const stream = this.data.takeStream(id, body.id);
      this.data.detach(body.id);
      response.writeHead(result.status, responseHead(result.headers, "keep"));
      await pipeline(stream, response).catch((error: Error) => {
        stream.destroy();
        this.logger.debug({ invocation: id, err: error.message }, "relay ended early");
      });
      return;
    }
    response.writeHead(result.status, responseHead(result.headers, "drop"));
    response.flushHeaders();
    invocation.openStream((chunk) => this.writeChunk(response, invocation, chunk));
    await invocation.ended;
    response.end();
  }

  private async writeChunk(
    response: ServerResponse,
    invocation: RunningInvocation,
    chunk: Uint8Array | Readable,
  ) {
    const chunks: AsyncIterable<Uint8Array> | Uint8Array[] = chunk instanceof Uint8Array ? [chunk] : chunk;
    for await (const piece of chunks) {
      if (!response.write(piece)) await once(response, "drain", { signal: invocation.signal });
    }
  }

  private fail(id: number, request: IncomingMessage, response: ServerResponse, error: unknown): void {
    if (!request.complete) request.resume();
    if (response.headersSent) {
      logFailedAfterStart(this.logger, id, error);
      response.destroy();
      return;
    }
    const answer = failureAnswer(error, id, request.url, this.logger);
    sendJson(response, answer.status, answer.body);
  }
}
