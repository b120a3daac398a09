import { appendHeader, type OutboundCall } from "./outbound-call.js";

const decoder = new TextDecoder();

/** What a web function answered in a test: what an HTTP client of the host would receive. */
export class WebTestResponse {
  /** Lower-case names, every value of repeated headers kept, in order. */
  readonly headers: Readonly<Record<string, readonly string[]>>;

  constructor(
    readonly status: number,
    /** The headers as sent, one pair per value. */
    readonly headerPairs: ReadonlyArray<readonly [string, string]>,
    /** The whole body (a streamed body's chunks joined). */
    readonly body: Uint8Array,
    /** A streamed body's chunks, as the function wrote them; undefined when not streamed. */
    readonly chunks: readonly Uint8Array[] | undefined,
    /** Outbound calls the invocation made, in order. */
    readonly calls: readonly OutboundCall[],
    /** What the function threw (the response is then the host's 400 or 500). */
    readonly error?: unknown,
  ) {
    const headers: Record<string, string[]> = {};
    for (const [name, value] of headerPairs) appendHeader(headers, name, value);
    this.headers = headers;
  }

  /** The first value of a header (case-insensitive), or undefined. */
  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0];
  }

  get text(): string {
    return decoder.decode(this.body);
  }

  /** The body parsed as JSON; throws a SyntaxError naming the body when it is not JSON. */
  json<T = unknown>(): T {
    try {
      return JSON.parse(this.text) as T;
    } catch (error) {
      throw new SyntaxError(
        `the response body (status ${this.status}) is not JSON: ${JSON.stringify(this.text.slice(0, 200))}`,
        { cause: error },
      );
    }
  }
}
