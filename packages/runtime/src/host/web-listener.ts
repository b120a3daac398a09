import { randomUUID } from "node:crypto";
import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { DataRef, WireWebRequest, WireWebResponse } from "@switchboard/sdk/internal";
import type { Logger } from "../dispatch/logger.js";
import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { readBody, sendError, sendJson } from "../io/http-util.js";
import { HttpListener } from "../io/listen.js";
import type { DataStore } from "./data-store.js";
import type { FunctionTarget } from "./function-targets.js";
import { type HostObserver, UNKNOWN_WEB_ROUTE } from "./host-observer.js";
import type { WebListenerSpec } from "./module-spec.js";
import type { RunningInvocation } from "./running-invocation.js";
import type { WebFunctionInfo } from "./worker/messages.js";

export interface WebRoute extends FunctionTarget {
  readonly info: WebFunctionInfo;
}

/** Response headers the host manages itself. */
const MANAGED = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "trailer", "te"]);
const PREFIX = "/functions/";

/**
 * Serves web functions: any method on `/functions/<name>[/<rest>][?query]`. Bodies for
 * bytes/text/json input are read here (bounded); a `data` input stays a stream in the host.
 * A function's failure is answered 500 with an error id only; the log has the error.
 */
export class WebListener {
  private readonly listener: HttpListener;

  constructor(
    private readonly spec: WebListenerSpec,
    private readonly routes: ReadonlyMap<string, WebRoute>,
    private readonly data: DataStore,
    private readonly nextId: () => number,
    private readonly logger: Logger,
    private readonly observer?: HostObserver,
  ) {
    this.listener = new HttpListener(
      {
        host: this.spec.host,
        port: this.spec.port,
        what: "web function listener",
        movedBy: "move it with `port:` of its io.switchboard.functions.v1/web component in the module YAML",
        closeConnectionsOnStop: true,
        limits: this.spec,
      },
      (request, response) => this.handle(request, response),
    );
  }

  async start(): Promise<number> {
    return this.listener.start();
  }

  get port(): number {
    return this.listener.port;
  }

  get url(): string {
    return this.listener.url;
  }

  async stop(): Promise<void> {
    await this.listener.stop();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const id = this.nextId();
    const started = this.observer ? performance.now() : 0;
    // The function's name once it is known to be one: the requested name never becomes a label.
    let routeName = UNKNOWN_WEB_ROUTE;
    let invocation: RunningInvocation | undefined;
    try {
      const target = request.url ?? "/";
      const queryAt = target.indexOf("?");
      const path = queryAt === -1 ? target : target.slice(0, queryAt);
      if (!path.startsWith(PREFIX)) {
        throw new SwitchboardError(
          HostErrors.BAD_PATH,
          `web functions are served at /functions/<name>, not ${path}`,
        );
      }
      const slash = path.indexOf("/", PREFIX.length);
      const name = decodeSegment(path.slice(PREFIX.length, slash === -1 ? undefined : slash));
      const route = this.routes.get(name);
      if (!route) {
        throw new SwitchboardError(
          HostErrors.UNKNOWN_WEB_FUNCTION,
          `there is no web function named ${name}`,
          {
            name,
          },
        );
      }
      routeName = name;
      const body = await this.bodyRef(id, route.info, request);
      const wire: WireWebRequest = {
        name,
        method: request.method ?? "GET",
        path: slash === -1 ? "" : path.slice(slash),
        rawQuery: queryAt === -1 ? "" : target.slice(queryAt + 1),
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
  }

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
      const body = await readBody(request, this.spec.maxBodyBytes);
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
    const headers = result.headers.filter(([name]) => !MANAGED.has(name));
    if (body.kind === "none") {
      response.writeHead(result.status, flatten(headers.filter(([name]) => name !== "content-length")));
      response.end();
      return;
    }
    if (body.kind === "bytes" || (body.kind === "data" && this.data.get(id, body.id).kind === "bytes")) {
      const bytes =
        body.kind === "bytes" ? body.bytes : (this.data.get(id, body.id) as { bytes: Uint8Array }).bytes;
      const flat = flatten(headers.filter(([name]) => name !== "content-length"));
      flat.push("content-length", String(bytes.length));
      response.writeHead(result.status, flat);
      response.end(bytes);
      return;
    }
    if (body.kind === "data") {
      // A relayed stream outlives the invocation: it belongs to the response from here on.
      const stream = this.data.takeStream(id, body.id);
      this.data.detach(body.id);
      response.writeHead(result.status, flatten(headers));
      await pipeline(stream, response).catch((error: Error) => {
        stream.destroy();
        this.logger.debug({ invocation: id, err: error.message }, "relay ended early");
      });
      return;
    }
    response.writeHead(result.status, flatten(headers.filter(([name]) => name !== "content-length")));
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
      this.logger.warn(
        { invocation: id, err: describe(error) },
        "web function failed after its response started",
      );
      response.destroy();
      return;
    }
    if (error instanceof SwitchboardError && error.code === HostErrors.FUNCTION_FAILED.code) {
      const errorId = randomUUID();
      this.logger.error(
        { errorId, invocation: id, path: request.url?.split("?")[0], err: error.cause ?? error.message },
        "web function failed",
      );
      sendJson(response, 500, {
        error: {
          code: error.code,
          message: `the function failed; the host log has the details under error id ${errorId}`,
          errorId,
        },
      });
      return;
    }
    if (!(error instanceof SwitchboardError)) {
      const errorId = randomUUID();
      this.logger.error({ errorId, invocation: id, err: describe(error) }, "web request failed in the host");
      sendJson(response, 500, {
        error: { code: "SB_INTERNAL", message: `internal error ${errorId}`, errorId },
      });
      return;
    }
    if (error.status >= 500)
      this.logger.warn({ invocation: id, code: error.code, err: error.message }, "web function failed");
    sendError(response, error);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new SwitchboardError(
      HostErrors.BAD_PATH,
      `the path segment ${segment} is not valid percent-encoding`,
    );
  }
}

function headerPairs(raw: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let index = 0; index + 1 < raw.length; index += 2) {
    pairs.push([(raw[index] as string).toLowerCase(), raw[index + 1] as string]);
  }
  return pairs;
}

/** writeHead's array form: names and values in one flat list, repeats kept. */
function flatten(headers: ReadonlyArray<readonly [string, string]>): string[] {
  return headers.flat();
}
