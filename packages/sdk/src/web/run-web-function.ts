import { SdkError, SdkErrors } from "../errors.js";
import { Data } from "./data.js";
import { hostBridge } from "./host-bridge.js";
import type { StandardIssue } from "./standard-schema.js";
import type { WebFunction } from "./web-function.js";
import { type StreamChunk, WebResponse } from "./web-response.js";
import type { WebRequest } from "./web-types.js";
import {
  headerLookup,
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
  const headers = pairsToRecord(wire.headers);
  const request: WebRequest = {
    method: wire.method,
    name: wire.name,
    path: wire.path,
    query: parseQuery(wire.rawQuery),
    headers,
    header: headerLookup(headers),
    invocationId: wire.invocationId,
  };
  const input = await decodeInput(fn, wire);
  const output = await fn.handler(input as never, request);
  return toResponse(output);
}

async function decodeInput(fn: WebFunction, wire: WireWebRequest): Promise<unknown> {
  const input = fn.input ?? "bytes";
  const body = Data.fromRef(wire.body);
  if (input === "data") return body;
  const bytes = await body.bytes();
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
  const result = await input.schema["~standard"].validate(value);
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
