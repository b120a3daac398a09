/**
 * An outbound call as a test sees it: what the function asked `http.invoke` for, after the
 * host's part (upstream base URL and headers) was applied, with the body as bytes.
 */
export interface OutboundCall {
  readonly method: string;
  /** The absolute URL the host would call. */
  readonly url: string;
  /** The named upstream the function used, if any. */
  readonly upstream?: string;
  /** Lower-case names, repeated values kept (including headers the upstream adds). */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  /** Empty when the call had no body. */
  readonly body: Uint8Array;
  /** The body as UTF-8 text. */
  readonly text: string;
  /** The first value of a header (case-insensitive). */
  header(name: string): string | undefined;
  /** The body parsed as JSON; throws when it is not JSON. */
  json<T = unknown>(): T;
}

/** What a mock, a cassette or the network answers a call with (before it becomes a Data). */
export interface CallAnswer {
  readonly status: number;
  readonly headers: Array<[string, string]>;
  readonly body: Uint8Array;
}

const decoder = new TextDecoder();

export function outboundCall(fields: {
  method: string;
  url: string;
  upstream?: string | undefined;
  headers: Record<string, string[]>;
  body: Uint8Array;
}): OutboundCall {
  const text = decoder.decode(fields.body);
  return {
    method: fields.method,
    url: fields.url,
    ...(fields.upstream !== undefined ? { upstream: fields.upstream } : {}),
    headers: fields.headers,
    body: fields.body,
    text,
    header: (name) => fields.headers[name.toLowerCase()]?.[0],
    json: <T>() => JSON.parse(text) as T,
  };
}

/** Header names whose values a failure message or a cassette never shows. */
export const SECRET_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "api-key",
]);

/** A few lines describing a call, for failure messages (secret header values hidden). */
export function describeCall(call: OutboundCall, hidden: ReadonlySet<string> = SECRET_HEADERS): string {
  const lines = [
    `${call.method} ${call.url}${call.upstream !== undefined ? ` (upstream ${call.upstream})` : ""}`,
  ];
  for (const [name, values] of Object.entries(call.headers)) {
    for (const value of values) lines.push(`  ${name}: ${hidden.has(name) ? "<hidden>" : value}`);
  }
  if (call.body.length > 0) lines.push(`  body: ${preview(call.text)}`);
  return lines.join("\n");
}

export function preview(text: string, max = 300): string {
  const flat = JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
  return text.length > max ? `${flat} (${text.length} characters)` : flat;
}

/** Adds one header value to a record of repeated headers. */
export function appendHeader(headers: Record<string, string[]>, name: string, value: string): void {
  const values = headers[name];
  if (values) values.push(value);
  else headers[name] = [value];
}
