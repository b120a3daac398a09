import { Data } from "./data.js";

/** One server-sent event; `data` may hold newlines (sent as several `data:` lines). */
export interface SseEvent {
  readonly event?: string;
  readonly id?: string;
  readonly data?: string;
  /** Milliseconds the client should wait before reconnecting. */
  readonly retry?: number;
}

export type StreamChunk = Uint8Array | string | Data;

export type ResponseBody =
  | { readonly kind: "none" }
  | { readonly kind: "bytes"; readonly bytes: Uint8Array }
  | { readonly kind: "data"; readonly data: Data }
  | { readonly kind: "stream"; readonly chunks: AsyncIterable<StreamChunk> };

const encoder = new TextEncoder();

/**
 * A response built by hand: any status, any headers (repeats kept), and a body that is
 * text, bytes, a Data handle (relayed from the host without entering the function), JSON,
 * or a stream of chunks or server-sent events.
 */
export class WebResponse {
  statusCode = 200;
  readonly headerList: Array<[string, string]> = [];
  content: ResponseBody = { kind: "none" };

  constructor(status = 200) {
    this.status(status);
  }

  status(code: number): this {
    if (!Number.isInteger(code) || code < 200 || code > 599)
      throw new RangeError(`an HTTP status is an integer from 200 to 599, got ${code}`);
    this.statusCode = code;
    return this;
  }

  /** Appends a header; call again with the same name to send it repeatedly. */
  header(name: string, value: string): this {
    this.headerList.push([name.toLowerCase(), value]);
    return this;
  }

  /** Appends every header of `headers` (arrays become repeated headers). */
  headers(headers: Readonly<Record<string, string | readonly string[]>>): this {
    for (const [name, value] of Object.entries(headers)) {
      for (const one of typeof value === "string" ? [value] : value) this.header(name, one);
    }
    return this;
  }

  /** A text, bytes or Data body. Sets no content type unless none is set yet. */
  body(body: string | Uint8Array | Data): this {
    if (Data.isData(body)) this.content = { kind: "data", data: body };
    else if (typeof body === "string") {
      this.defaultType("text/plain; charset=utf-8");
      this.content = { kind: "bytes", bytes: encoder.encode(body) };
    } else {
      this.defaultType("application/octet-stream");
      this.content = { kind: "bytes", bytes: body };
    }
    return this;
  }

  json(value: unknown): this {
    this.defaultType("application/json");
    this.content = { kind: "bytes", bytes: encoder.encode(JSON.stringify(value)) };
    return this;
  }

  /** Streams chunks to the caller as they come; the host applies back-pressure. */
  stream(chunks: AsyncIterable<StreamChunk>): this {
    this.content = { kind: "stream", chunks };
    return this;
  }

  /** Streams server-sent events (text/event-stream, no caching). */
  sse(events: AsyncIterable<SseEvent>): this {
    this.defaultType("text/event-stream");
    if (!this.has("cache-control")) this.header("cache-control", "no-cache");
    this.content = { kind: "stream", chunks: sseChunks(events) };
    return this;
  }

  has(name: string): boolean {
    const lower = name.toLowerCase();
    return this.headerList.some(([key]) => key === lower);
  }

  private defaultType(type: string): void {
    if (!this.has("content-type")) this.header("content-type", type);
  }

  static isWebResponse(value: unknown): value is WebResponse {
    return value instanceof WebResponse;
  }
}

async function* sseChunks(events: AsyncIterable<SseEvent>): AsyncGenerator<string> {
  for await (const event of events) yield formatSse(event);
}

/** One event in the text/event-stream format; CR/LF in event or id are refused. */
export function formatSse(event: SseEvent): string {
  if (event.event === undefined && event.data === undefined)
    throw new TypeError("a server-sent event needs an event name or data");
  let out = "";
  for (const [field, value] of [
    ["event", event.event],
    ["id", event.id],
  ] as const) {
    if (value === undefined) continue;
    if (/[\r\n\0]/.test(value)) throw new TypeError(`an SSE ${field} cannot contain CR, LF or NUL`);
    out += `${field}: ${value}\n`;
  }
  if (event.retry !== undefined) out += `retry: ${Math.max(0, Math.trunc(event.retry))}\n`;
  if (event.data !== undefined) for (const line of event.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}
