import { SdkError, SdkErrors } from "../errors.js";
import { Data } from "./data.js";
import { hostBridge } from "./host-bridge.js";
import type { StandardIssue, StandardResult } from "./standard-schema.js";
import type { WebFunction } from "./web-function.js";
import { type StreamChunk, WebResponse } from "./web-response.js";
import type { WebRequest } from "./web-types.js";
import {
  firstHeader,
  pairsToRecord,
  type WireBody,
  type WireWebRequest,
  type WireWebResponse,
} from "./wire.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Runs one web invocation inside a host worker: decodes the input (a bad body is a 400
 * SdkError and the handler is not run), calls the handler and maps what it returned to a
 * response. A streamed body is sent by `pump` after the head has gone out.
 */
export async function runWebFunction(
  fn: WebFunction,
  wire: WireWebRequest,
): Promise<{ response: WireWebResponse; pump?: () => Promise<void> }> {
  const request = new LazyWebRequest(wire);
  const input = decodeInput(fn, wire);
  const decoded = isPromise(input) ? await input : input;
  const output = fn.handler(decoded as never, request);
  return toResponse(isPromise(output) ? await output : output);
}

/**
 * The handler's view of the request. Its header record and query are built on first use: a
 * function that never reads them (most read one header, through `header()`) does not pay for
 * turning every header pair into a record on each request. `toJSON` keeps logging it whole.
 */
class LazyWebRequest implements WebRequest {
  readonly method: string;
  readonly name: string;
  readonly path: string;
  readonly invocationId: string;
  readonly #wire: WireWebRequest;
  #headers: Record<string, string[]> | undefined;
  #query: Record<string, string[]> | undefined;

  constructor(wire: WireWebRequest) {
    this.#wire = wire;
    this.method = wire.method;
    this.name = wire.name;
    this.path = wire.path;
    this.invocationId = wire.invocationId;
  }

  get headers(): Readonly<Record<string, readonly string[]>> {
    this.#headers ??= pairsToRecord(this.#wire.headers);
    return this.#headers;
  }

  get query(): Readonly<Record<string, readonly string[]>> {
    this.#query ??= parseQuery(this.#wire.rawQuery);
    return this.#query;
  }

  header(name: string): string | undefined {
    return firstHeader(this.#wire.headers, name.toLowerCase());
  }

  toJSON(): Omit<WebRequest, "header"> {
    const { method, name, path, query, headers, invocationId } = this;
    return { method, name, path, query, headers, invocationId };
  }
}

function isPromise(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

/**
 * The decoded body: synchronous when the bytes are already here and the schema checks
 * synchronously (zod does), so a small JSON request costs no extra promise and tick.
 */
function decodeInput(fn: WebFunction, wire: WireWebRequest): unknown {
  const input = fn.input ?? "bytes";
  const ref = wire.body;
  if (input === "data") return Data.fromRef(ref);
  if (!("bytes" in ref))
    return Data.fromRef(ref)
      .bytes()
      .then((bytes) => decodeBytes(input, bytes));
  return decodeBytes(input, ref.bytes);
}

function decodeBytes(input: Exclude<WebFunction["input"], "data" | undefined>, bytes: Uint8Array): unknown {
  if (input === "bytes") return bytes;
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new SdkError(SdkErrors.BAD_INPUT, "the body is not valid UTF-8");
  }
  if (input === "text") return text;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SdkError(SdkErrors.BAD_INPUT, `the body is not valid JSON: ${(error as Error).message}`);
  }
  if (!input.schema) return value;
  const result = input.schema["~standard"].validate(value);
  return isPromise(result) ? Promise.resolve(result).then(checked) : checked(result);
}

function checked(result: StandardResult<unknown>): unknown {
  if (result.issues) {
    throw new SdkError(
      SdkErrors.BAD_INPUT,
      `the body does not match the schema: ${result.issues.map(formatIssue).join("; ")}`,
    );
  }
  return result.value;
}

function formatIssue(issue: StandardIssue): string {
  const path = (issue.path ?? [])
    .map((segment) => String(typeof segment === "object" ? segment.key : segment))
    .join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}

function parseQuery(raw: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    const existing = out[key];
    if (existing) existing.push(value);
    else out[key] = [value];
  }
  return out;
}

function toResponse(output: unknown): { response: WireWebResponse; pump?: () => Promise<void> } {
  if (output === undefined) return { response: { status: 204, headers: [], body: { kind: "none" } } };
  if (typeof output === "string") {
    return {
      response: {
        status: 200,
        headers: [["content-type", "text/plain; charset=utf-8"]],
        body: { kind: "bytes", bytes: encoder.encode(output) },
      },
    };
  }
  if (output instanceof Uint8Array || Data.isData(output)) {
    return {
      response: {
        status: 200,
        headers: [["content-type", "application/octet-stream"]],
        body: wireBody(output),
      },
    };
  }
  if (WebResponse.isWebResponse(output)) {
    const { content } = output;
    const headers = output.headerList.map(([name, value]): [string, string] => [name, value]);
    if (content.kind === "stream") {
      return {
        response: { status: output.statusCode, headers, body: { kind: "stream" } },
        pump: () => pumpStream(content.chunks),
      };
    }
    const body: WireBody =
      content.kind === "none" ? content : content.kind === "bytes" ? content : wireBody(content.data);
    return { response: { status: output.statusCode, headers, body } };
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(output);
  } catch (error) {
    throw new SdkError(
      SdkErrors.BAD_OUTPUT,
      `the handler's result cannot be sent as JSON: ${(error as Error).message}`,
    );
  }
  if (json === undefined) throw new SdkError(SdkErrors.BAD_OUTPUT, `the handler returned a ${typeof output}`);
  return {
    response: {
      status: 200,
      headers: [["content-type", "application/json"]],
      body: { kind: "bytes", bytes: encoder.encode(json) },
    },
  };
}

function wireBody(body: Uint8Array | Data): WireBody {
  if (body instanceof Uint8Array) return { kind: "bytes", bytes: body };
  const ref = Data.refOf(body);
  return "id" in ref ? { kind: "data", id: ref.id } : { kind: "bytes", bytes: ref.bytes };
}

/** Sends each chunk as a host call; each resolves once the host's socket can take more. */
async function pumpStream(chunks: AsyncIterable<StreamChunk>): Promise<void> {
  const bridge = hostBridge("a streamed response");
  for await (const chunk of chunks) {
    const ref = Data.isData(chunk)
      ? Data.refOf(chunk)
      : { bytes: typeof chunk === "string" ? encoder.encode(chunk) : chunk };
    await bridge.call("stream.write", ref);
  }
}
