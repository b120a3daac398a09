/**
 * Web functions in tests, in-process: the SDK's own `runWebFunction` (what the host's worker
 * runs) decodes the input and maps the output, while the host's side of every host call is
 * played here: Data handles, `http.invoke` answered by mocks, a cassette or (on request) the
 * network, and streamed chunks. Nothing listens on a port.
 */
import { SdkError, SdkErrors } from "../errors.js";
import type { DataRef } from "../web/data.js";
import { runWebFunction } from "../web/run-web-function.js";
import { isWebFunction, type WebFunction } from "../web/web-function.js";
import type { WireHttpRequest, WireHttpResponse, WireWebRequest, WireWebResponse } from "../web/wire.js";
import { Cassette, type CassetteOptions } from "./cassette.js";
import { withTestBridge } from "./fake-bridge.js";
import { FakeDataStore } from "./fake-data-store.js";
import { HttpMock } from "./http-mock.js";
import { callLive } from "./live-http.js";
import {
  appendHeader,
  type CallAnswer,
  type OutboundCall,
  outboundCall,
  SECRET_HEADERS,
} from "./outbound-call.js";
import type { TestCapability, TestHostCall, TestInvocation } from "./test-capability.js";
import { WebTestResponse } from "./web-test-response.js";

/** A named upstream as module YAML would resolve it: base URL and the headers the host adds. */
export interface TestUpstream {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface WebTestHostOptions {
  /** The web functions served: a list, or a module's exports (every web function in it). */
  readonly functions?: readonly WebFunction[] | Readonly<Record<string, unknown>>;
  /** Upstreams the functions call by name (`http.invoke({ upstream })`). */
  readonly upstreams?: Readonly<Record<string, TestUpstream>>;
  /** Calls no mock answers go to this cassette (recorded or replayed; see docs/testing.md). */
  readonly cassette?: string | CassetteOptions;
  /**
   * A call that no mock (or cassette) answers: "fail" (default) fails the request with the
   * call and the closest mock, even when the function catches the error; "network" makes it
   * for real.
   */
  readonly unmatched?: "fail" | "network";
  /** Fake capabilities (e.g. a fake cache): more host calls, by name. */
  readonly capabilities?: readonly TestCapability[];
  /** More host calls, by name (same as one capability). */
  readonly hostCalls?: Readonly<Record<string, TestHostCall>>;
  /** Deadline of a real call (`unmatched: "network"`); default 30 s. */
  readonly networkTimeoutMs?: number;
}

/** A request to a web function, as an HTTP client would send it to `/functions/<name>`. */
export interface WebTestRequest {
  /** Default POST when there is a body, else GET. */
  readonly method?: string;
  /** What follows `/functions/<name>`, with a query if wanted: "/items/7?a=1&a=2". */
  readonly path?: string;
  /** More query parameters (arrays repeat the key). */
  readonly query?: Readonly<Record<string, string | readonly string[]>>;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: string | Uint8Array;
  /** Sent as JSON (content-type application/json unless headers set one). */
  readonly json?: unknown;
}

/** An invocation as this host runs it: the capability view, plus the calls it made. */
interface HostInvocation extends TestInvocation {
  readonly calls: OutboundCall[];
}

/** Response headers the host manages itself and never passes on. */
const MANAGED = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "trailer", "te"]);
const encoder = new TextEncoder();

export class WebTestHost {
  /** Outbound HTTP mocks; tried before the cassette. */
  readonly mock = new HttpMock();
  readonly cassette: Cassette | undefined;
  /** Every outbound call made so far, in order. */
  readonly calls: OutboundCall[] = [];
  private readonly functions = new Map<string, WebFunction>();
  private readonly hostCalls = new Map<string, TestHostCall>();
  private readonly upstreams: ReadonlyMap<string, TestUpstream>;
  private readonly unmatched: "fail" | "network";
  private readonly hidden: Set<string>;
  private invocations = 0;

  constructor(private readonly options: WebTestHostOptions = {}) {
    const list = Array.isArray(options.functions)
      ? options.functions
      : Object.values(options.functions ?? {}).filter(isWebFunction);
    for (const fn of list) this.add(fn);
    this.upstreams = new Map(Object.entries(options.upstreams ?? {}));
    this.unmatched = options.unmatched ?? "fail";
    this.hidden = new Set(SECRET_HEADERS);
    for (const upstream of this.upstreams.values())
      for (const name of Object.keys(upstream.headers ?? {})) this.hidden.add(name.toLowerCase());
    if (options.cassette !== undefined) {
      this.cassette = new Cassette(
        typeof options.cassette === "string" ? { path: options.cassette } : options.cassette,
      );
      this.cassette.hide(this.hidden);
    }
    this.register("data.read", (args, invocation) => {
      const bytes = invocation.data.read((args as { id: number }).id);
      // The real host moves a buffer of its own into the worker: the function gets a copy.
      return bytes.slice().buffer;
    });
    // Every invocation this host runs carries its calls list (see request()).
    this.register("http.invoke", (args, invocation) =>
      this.invokeHttp(args as WireHttpRequest, invocation as HostInvocation),
    );
    for (const capability of options.capabilities ?? [])
      for (const [op, call] of Object.entries(capability.hostCalls)) this.register(op, call);
    for (const [op, call] of Object.entries(options.hostCalls ?? {})) this.register(op, call);
  }

  /** Serves one more web function. */
  add(fn: WebFunction): this {
    if (!isWebFunction(fn)) throw new TypeError("WebTestHost serves functions made with webFunction()");
    const taken = this.functions.get(fn.name);
    if (taken && taken !== fn) throw new TypeError(`two web functions are named ${fn.name}`);
    this.functions.set(fn.name, fn);
    return this;
  }

  /** Invokes a web function (by value or name) and returns what its caller would receive. */
  async request(target: WebFunction | string, request: WebTestRequest = {}): Promise<WebTestResponse> {
    const fn = typeof target === "string" ? this.functions.get(target) : target;
    if (!fn || !isWebFunction(fn)) {
      throw new TypeError(
        `no web function ${String(target)} in this WebTestHost (it serves: ${[...this.functions.keys()].join(", ") || "none"})`,
      );
    }
    const invocationId = `test-${++this.invocations}`;
    const data = new FakeDataStore();
    const failures: Error[] = [];
    const calls: OutboundCall[] = [];
    const chunks: Uint8Array[] = [];
    const invocation: HostInvocation = {
      invocationId,
      data,
      fail: (error) => failures.push(error),
      calls,
    };
    const bridge = {
      call: async (op: string, args: unknown): Promise<unknown> => {
        if (op === "stream.write") {
          const ref = args as DataRef;
          chunks.push("bytes" in ref ? ref.bytes : data.read(ref.id));
          return undefined;
        }
        const call = this.hostCalls.get(op);
        if (!call) throw hostCallError("SB_HOST_UNKNOWN_HOST_CALL", 500, `there is no host call ${op}`);
        return call(args, invocation);
      },
    };
    const wire = this.wireRequest(fn, request, invocationId, data);
    let response: WebTestResponse;
    try {
      const { response: head, pump } = await withTestBridge(bridge, () => runWebFunction(fn, wire));
      let streamError: unknown;
      if (pump) await withTestBridge(bridge, pump).catch((error: unknown) => (streamError = error));
      response = this.toResponse(head, data, pump ? chunks : undefined, calls, streamError);
    } catch (error) {
      response = failedResponse(error, calls);
    }
    for (const capability of this.options.capabilities ?? []) capability.ended?.(invocationId);
    const [failure] = failures;
    if (failure) throw failure;
    return response;
  }

  private register(op: string, call: TestHostCall): void {
    if (op === "stream.write" || this.hostCalls.has(op))
      throw new TypeError(`host call ${op} is registered twice in this WebTestHost`);
    this.hostCalls.set(op, call);
  }

  private wireRequest(
    fn: WebFunction,
    request: WebTestRequest,
    invocationId: string,
    data: FakeDataStore,
  ): WireWebRequest {
    const headers: Array<[string, string]> = [];
    for (const [name, value] of Object.entries(request.headers ?? {}))
      for (const one of typeof value === "string" ? [value] : value) headers.push([name.toLowerCase(), one]);
    let body: Uint8Array = new Uint8Array(0);
    if (request.json !== undefined) {
      body = encoder.encode(JSON.stringify(request.json));
      if (!headers.some(([name]) => name === "content-type"))
        headers.push(["content-type", "application/json"]);
    } else if (request.body !== undefined)
      body = typeof request.body === "string" ? encoder.encode(request.body) : request.body;
    const full = request.path ?? "";
    const queryAt = full.indexOf("?");
    const path = queryAt === -1 ? full : full.slice(0, queryAt);
    const query = new URLSearchParams(queryAt === -1 ? "" : full.slice(queryAt + 1));
    for (const [key, value] of Object.entries(request.query ?? {}))
      for (const one of typeof value === "string" ? [value] : value) query.append(key, one);
    if (path !== "" && !path.startsWith("/"))
      throw new TypeError(`path is "" or starts with "/", not ${path}`);
    return {
      name: fn.name,
      method: (
        request.method ?? (request.json !== undefined || request.body !== undefined ? "POST" : "GET")
      ).toUpperCase(),
      path,
      rawQuery: query.toString(),
      headers,
      invocationId,
      body: fn.input === "data" ? { id: data.put(body) } : { bytes: body },
    };
  }

  private async invokeHttp(request: WireHttpRequest, invocation: HostInvocation) {
    const headers: Record<string, string[]> = {};
    for (const [name, value] of request.headers) appendHeader(headers, name, value);
    const upstream = request.upstream !== undefined ? this.upstreams.get(request.upstream) : undefined;
    for (const [name, value] of Object.entries(upstream?.headers ?? {}))
      headers[name.toLowerCase()] = [value];
    const body = request.body
      ? "bytes" in request.body
        ? request.body.bytes
        : invocation.data.read(request.body.id)
      : new Uint8Array(0);
    const call = outboundCall({
      method: request.method,
      url: this.targetUrl(request),
      upstream: request.upstream,
      headers,
      body,
    });
    this.calls.push(call);
    invocation.calls.push(call);
    const answer = await this.answer(call, invocation);
    const reply: WireHttpResponse = {
      status: answer.status,
      headers: answer.headers,
      body: invocation.data.put(answer.body),
    };
    return reply;
  }

  private async answer(call: OutboundCall, invocation: TestInvocation): Promise<CallAnswer> {
    const route = this.mock.find(call);
    if (route) return route.respond(call);
    try {
      if (this.cassette) return await this.cassette.answer(call);
      if (this.unmatched === "network") return await callLive(call, this.options.networkTimeoutMs ?? 30_000);
      throw this.mock.unmatched(call, this.hidden);
    } catch (error) {
      if (error instanceof SdkError && this.unmatched === "fail") invocation.fail(error);
      throw error;
    }
  }

  /** The same URL rules as the host: a path with an upstream, an absolute http(s) URL without. */
  private targetUrl(request: WireHttpRequest): string {
    let text = request.url;
    if (request.upstream !== undefined) {
      const upstream = this.upstreams.get(request.upstream);
      if (!upstream) {
        throw hostCallError(
          "SB_HOST_UNKNOWN_UPSTREAM",
          400,
          `there is no upstream named ${request.upstream}; give it to the WebTestHost: upstreams: { ${request.upstream}: { url } }`,
        );
      }
      if (/^[a-z][a-z0-9+.-]*:/i.test(text))
        throw hostCallError(
          "SB_HOST_OUTBOUND_BAD_URL",
          400,
          `with upstream ${request.upstream}, url is a path, not ${text}`,
        );
      text = upstream.url.replace(/\/$/, "") + (text.startsWith("/") || text === "" ? text : `/${text}`);
    }
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw hostCallError("SB_HOST_OUTBOUND_BAD_URL", 400, `${text} is not an absolute URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
      throw hostCallError(
        "SB_HOST_OUTBOUND_BAD_URL",
        400,
        `only http and https URLs can be called, not ${url.protocol}`,
      );
    return url.href;
  }

  private toResponse(
    head: WireWebResponse,
    data: FakeDataStore,
    chunks: Uint8Array[] | undefined,
    calls: OutboundCall[],
    streamError: unknown,
  ): WebTestResponse {
    const headers = head.headers.filter(([name]) => !MANAGED.has(name));
    if (head.body.kind === "stream") {
      const joined = Buffer.concat(chunks ?? []);
      return new WebTestResponse(head.status, headers, new Uint8Array(joined), chunks, calls, streamError);
    }
    const body =
      head.body.kind === "none"
        ? new Uint8Array(0)
        : head.body.kind === "bytes"
          ? head.body.bytes
          : data.read(head.body.id);
    // Like the host: content-length is its own, and only for a body.
    const pairs = headers.filter(([name]) => name !== "content-length");
    if (head.body.kind !== "none") pairs.push(["content-length", String(body.length)]);
    return new WebTestResponse(head.status, pairs, body, undefined, calls);
  }
}

/** Runs one request against one web function in a fresh WebTestHost. */
export function testWebFunction(
  fn: WebFunction,
  request: WebTestRequest = {},
  options: Omit<WebTestHostOptions, "functions"> = {},
): Promise<WebTestResponse> {
  return new WebTestHost({ ...options, functions: [fn] }).request(fn, request);
}

/** The host's answers to a failed invocation: 400 for input that does not decode, else 500. */
function failedResponse(error: unknown, calls: OutboundCall[]): WebTestResponse {
  const badInput = error instanceof SdkError && error.code === SdkErrors.BAD_INPUT.code;
  const body = badInput
    ? { error: { code: "SB_HOST_BAD_INPUT", message: (error as Error).message } }
    : {
        error: {
          code: "SB_HOST_FUNCTION_FAILED",
          message: "the function failed; the host log has the details under error id test",
          errorId: "test",
        },
      };
  const bytes = encoder.encode(JSON.stringify(body));
  return new WebTestResponse(
    badInput ? 400 : 500,
    [
      ["content-type", "application/json"],
      ["content-length", String(bytes.length)],
    ],
    bytes,
    undefined,
    calls,
    error,
  );
}

/** An error as a host call failure reaches a function in the worker. */
function hostCallError(code: string, status: number, message: string): Error {
  const error = new Error(message) as Error & { code: string; status: number };
  error.name = "HostCallError";
  error.code = code;
  error.status = status;
  return error;
}
