import type { IncomingMessage, ServerResponse } from "node:http";
import { runWebFunction, type WireWebRequest, type WireWebResponse } from "@switchboard/sdk/internal";
import { HostErrors } from "../../errors/host-errors.js";
import { isError, SwitchboardError } from "../../errors/switchboard-error.js";
import { readBody, sendJson } from "../../io/http-util.js";
import { HttpListener } from "../../io/listen.js";
import { UNKNOWN_WEB_ROUTE } from "../host-observer.js";
import type { FailureAnswer } from "../web-failure.js";
import {
  headerPairs,
  responseHead,
  sendBuffered,
  unknownWebFunction,
  type WebTarget,
  webTarget,
} from "../web-http.js";
import { serializeError } from "./messages.js";
import { ServedRequest } from "./served-request.js";
import type { WorkerListenSpec, WorkerWebRoute } from "./web-messages.js";
import type { WebServing } from "./web-serving.js";

/**
 * The request as `runWebFunction` reads it. The header pairs are made from Node's raw headers
 * only if the function looks at them: most functions never do, and building them was a
 * share of every request's cost.
 */
class ServedWireRequest implements WireWebRequest {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly rawQuery: string;
  #headers: WireWebRequest["headers"] | undefined;

  constructor(
    target: WebTarget,
    private readonly request: IncomingMessage,
    readonly invocationId: string,
    readonly body: WireWebRequest["body"],
  ) {
    this.name = target.name;
    this.method = request.method ?? "GET";
    this.path = target.path;
    this.rawQuery = target.rawQuery;
  }

  get headers(): WireWebRequest["headers"] {
    this.#headers ??= headerPairs(this.request.rawHeaders);
    return this.#headers;
  }
}

/** Thrown by the function (or its stream): told apart from the host's own failures. */
class FunctionFailure {
  constructor(readonly error: unknown) {}
}

/**
 * One web listener's server inside a worker: it shares the listener's port with the other
 * workers of the pool (`reusePort`), so the kernel hands it connections and each request is
 * served here from start to end; the main thread hears of a request only when its function
 * calls the host, has a `data` body, or fails.
 */
export class WorkerWebServer {
  private readonly listener: HttpListener;
  private routes: ReadonlyMap<string, WorkerWebRoute>;
  private inflight = 0;
  private drained: (() => void) | undefined;

  constructor(
    private readonly spec: WorkerListenSpec,
    routes: readonly WorkerWebRoute[],
    private readonly serving: WebServing,
  ) {
    this.routes = new Map(routes.map((route) => [route.name, route]));
    this.listener = new HttpListener(
      {
        host: spec.host,
        port: spec.port,
        what: "web function listener",
        closeConnectionsOnStop: true,
        reusePort: true,
        limits: spec,
      },
      this.handle,
    );
  }

  async start(): Promise<void> {
    await this.listener.start();
  }

  setRoutes(routes: readonly WorkerWebRoute[]): void {
    this.routes = new Map(routes.map((route) => [route.name, route]));
  }

  /** Stops taking connections; `hard` cuts requests in flight, else waits for them. */
  async close(hard: boolean): Promise<void> {
    if (hard) {
      await this.listener.stop();
      return;
    }
    this.listener.release();
    if (this.inflight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await this.listener.stop();
  }

  private readonly handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const started = this.spec.observe ? performance.now() : 0;
    const id = this.serving.nextId();
    this.inflight++;
    let routeName = UNKNOWN_WEB_ROUTE;
    let served: ServedRequest | undefined;
    try {
      const target = webTarget(request.url);
      const route = this.routes.get(target.name);
      const fn = route && this.serving.fns.get(target.name);
      if (!route || !fn) throw unknownWebFunction(target.name);
      routeName = target.name;
      served = this.serving.open(new ServedRequest(id, route, response, this.serving.link));
      const request_ = served;
      response.on("close", () => {
        if (!response.writableFinished)
          request_.abort(new SwitchboardError(HostErrors.CLIENT_GONE, "the client went away"));
      });
      let body: WireWebRequest["body"];
      if (route.input === "data") {
        served.arm();
        body = this.serving.openBody(served, request);
      } else {
        body = { bytes: await this.readBody(request) };
        served.arm();
      }
      const wire = new ServedWireRequest(target, request, String(id), body);
      const answer = await served.race(
        this.serving
          .run(id, () => runWebFunction(fn, wire))
          .catch((error: unknown) => {
            throw new FunctionFailure(error);
          }),
      );
      await this.respond(served, answer.response, answer.pump, response);
    } catch (error) {
      await this.fail(id, request, response, error);
    } finally {
      if (served) this.serving.close(served);
      if (--this.inflight === 0) this.drained?.();
      if (this.spec.observe)
        this.serving.seen(routeName, response.statusCode, (performance.now() - started) / 1000);
    }
  };

  private async readBody(request: IncomingMessage): Promise<Uint8Array> {
    try {
      return await readBody(request, this.spec.maxBodyBytes);
    } catch (error) {
      if (error instanceof SwitchboardError)
        throw new SwitchboardError(HostErrors.BODY_TOO_LARGE, error.message, error.details);
      throw error;
    }
  }

  private async respond(
    served: ServedRequest,
    result: WireWebResponse,
    pump: (() => Promise<void>) | undefined,
    response: ServerResponse,
  ): Promise<void> {
    const { body } = result;
    if (body.kind !== "stream") served.disarm();
    if (body.kind === "none" || body.kind === "bytes") {
      this.endBeforeAnswer(served);
      sendBuffered(response, result.status, result.headers, body.kind === "bytes" ? body.bytes : undefined);
      return;
    }
    if (body.kind === "data") {
      response.writeHead(result.status, responseHead(result.headers, "keep"));
      await served.relay(body.id);
      this.endBeforeAnswer(served);
      response.end();
      return;
    }
    response.writeHead(result.status, responseHead(result.headers, "drop"));
    response.flushHeaders();
    served.streaming = true;
    if (pump)
      await served.race(
        this.serving.run(served.id, pump).catch((error: unknown) => {
          throw new FunctionFailure(error);
        }),
      );
    this.endBeforeAnswer(served);
    response.end();
  }

  /**
   * The host lets go of what it held for a request before its client sees the end, as on the
   * hop path (a request the host never heard of costs nothing here).
   */
  private endBeforeAnswer(served: ServedRequest): void {
    if (!served.known) return;
    this.serving.close(served);
    this.serving.link.flush();
  }

  private async fail(
    id: number,
    request: IncomingMessage,
    response: ServerResponse,
    thrown: unknown,
  ): Promise<void> {
    if (!request.complete) request.resume();
    const byFunction = thrown instanceof FunctionFailure;
    const error = byFunction ? thrown.error : thrown;
    if (response.headersSent) {
      this.serving.link.send({ t: "web-cut", id, error: serializeError(error) });
      response.destroy();
      return;
    }
    // Nobody is left to answer.
    if (response.destroyed || isError(error, HostErrors.CLIENT_GONE)) return;
    const answer = (await this.serving.link.ask((callId) => ({
      t: "web-fail",
      callId,
      id,
      path: request.url ?? "",
      by: byFunction ? "function" : "host",
      error: serializeError(error),
    }))) as FailureAnswer;
    sendJson(response, answer.status, answer.body);
  }
}
