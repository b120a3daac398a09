import type { Readable } from "node:stream";
import type { DataRef, WireHttpRequest, WireHttpResponse } from "@switchboard/sdk/internal";
import { NOT_FORWARDED_HEADERS } from "@switchboard/sdk/internal";
import { transportDefaults } from "../config/transport-defaults.js";
import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { AddressGuard, Transport, TransportOptions, TransportRequest } from "../transport/types.js";
import type { DataStore } from "./data-store.js";
import type { HostCallResult } from "./host-calls.js";
import type { Invocation } from "./invocation.js";
import type { OutboundPolicy } from "./outbound-policy.js";

/** An upstream after start-up: base URL and the headers the host adds (secrets resolved). */
export interface ResolvedUpstream {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface OutboundContext {
  readonly transport: Transport;
  readonly data: DataStore;
  readonly policy: OutboundPolicy;
  readonly upstreams: ReadonlyMap<string, ResolvedUpstream>;
  readonly defaultTimeoutMs: number;
}

/**
 * Outbound calls for functions share the runtime's transport (and so its pools) with a
 * profile of their own: I/O failures on replayable bodies are retried, HTTP statuses never
 * are (a non-2xx is the function's to read), and bodies are not capped because they stream.
 */
function outboundOptions(timeoutMs: number, retry: boolean, addressGuard: AddressGuard): TransportOptions {
  const base = transportDefaults("default");
  return {
    ...base,
    addressGuard,
    callTimeoutMs: timeoutMs,
    payloadMaxBytes: Number.MAX_SAFE_INTEGER,
    retry: { ...base.retry, retryIoErrors: retry, retryStatuses: [], retryServerErrors: false },
  };
}

export async function invokeHttp(
  context: OutboundContext,
  invocation: Invocation,
  request: WireHttpRequest,
): Promise<HostCallResult> {
  const url = targetUrl(context, request);
  // An upstream's origin was named by the operator in the module YAML, so it may be local.
  const toUpstream = request.upstream !== undefined;
  await context.policy.checkResolved(url, toUpstream);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of request.headers) {
    if (NOT_FORWARDED_HEADERS.has(name)) continue;
    const existing = headers[name];
    headers[name] =
      existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  const upstream = request.upstream !== undefined ? context.upstreams.get(request.upstream) : undefined;
  if (upstream) Object.assign(headers, upstream.headers);
  const body = request.body ? bodyOf(context, invocation, request.body) : undefined;
  const timeoutMs = request.timeoutMs ?? context.defaultTimeoutMs;
  const redirects = redirectOptions(context, request, url);
  const response = await context.transport.request({
    url: url.href,
    method: request.method,
    headers,
    ...(body !== undefined ? { body } : {}),
    options: outboundOptions(
      Math.max(1, timeoutMs),
      request.retry ?? true,
      context.policy.connectGuard(url, toUpstream),
    ),
    // The invocation's signal fires at its deadline (or when its client leaves) while it
    // runs: waiting for headers never outlives the invocation. A body handed to the
    // response outlives it and is bounded by this call's own deadline.
    signal: invocation.signal,
    ...redirects,
  });
  const id = context.data.put(invocation.id, {
    kind: "stream",
    stream: response.body,
    consumed: false,
    // dump() (not destroy) also ends the call's deadline timer, which an unread body would keep.
    release: () => void response.dump().catch(() => {}),
  });
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(response.headers)) {
    for (const one of Array.isArray(value) ? value : [value]) pairs.push([name, one]);
  }
  const value: WireHttpResponse = { status: response.status, headers: pairs, body: id };
  return { value };
}

/** The most redirects a function may ask to follow; a loop needs no more to show. */
const MAX_REDIRECTS = 10;

/**
 * Redirects are followed only when the function asks. Every hop passes the same outbound
 * policy as the first URL, and a call to an upstream, whose headers carry secrets, never
 * follows a hop off the upstream's origin.
 */
function redirectOptions(
  context: OutboundContext,
  request: WireHttpRequest,
  first: URL,
): Pick<TransportRequest, "maxRedirects" | "checkRedirect"> {
  const hops = request.maxRedirects ?? 0;
  if (!Number.isInteger(hops) || hops < 0 || hops > MAX_REDIRECTS) {
    throw new SwitchboardError(
      HostErrors.BAD_INPUT,
      `maxRedirects is a whole number from 0 to ${MAX_REDIRECTS}, not ${hops}`,
    );
  }
  if (hops === 0) return {};
  const checkRedirect = async (next: string): Promise<void> => {
    const url = new URL(next);
    if (request.upstream !== undefined && url.origin !== first.origin) {
      throw new SwitchboardError(
        HostErrors.OUTBOUND_BAD_URL,
        `upstream ${request.upstream} redirected to another origin (${url.origin}); its headers stay with ${first.origin}`,
        { upstream: request.upstream },
      );
    }
    await context.policy.checkResolved(url);
  };
  return { maxRedirects: hops, checkRedirect };
}

function targetUrl(context: OutboundContext, request: WireHttpRequest): URL {
  if (request.upstream === undefined) return parseUrl(request.url);
  const upstream = context.upstreams.get(request.upstream);
  if (!upstream) {
    throw new SwitchboardError(
      HostErrors.UNKNOWN_UPSTREAM,
      `there is no upstream named ${request.upstream}; known: ${[...context.upstreams.keys()].join(", ") || "none"}`,
      { upstream: request.upstream },
    );
  }
  const path = request.url;
  if (path !== "" && !path.startsWith("/") && !path.startsWith("?")) {
    throw new SwitchboardError(
      HostErrors.OUTBOUND_BAD_URL,
      `with upstream ${request.upstream}, url is a path starting with / or ? (like /v1/items), not ${path}`,
    );
  }
  const base = parseUrl(upstream.url);
  const url = parseUrl(upstream.url.replace(/\/$/, "") + path);
  // The upstream's headers carry secrets: they go to the upstream's origin and nowhere else.
  if (url.origin !== base.origin) {
    throw new SwitchboardError(
      HostErrors.OUTBOUND_BAD_URL,
      `the url given with upstream ${request.upstream} leaves its origin ${base.origin}`,
      { upstream: request.upstream },
    );
  }
  return url;
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SwitchboardError(HostErrors.OUTBOUND_BAD_URL, `${text} is not an absolute URL`, { url: text });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new SwitchboardError(
      HostErrors.OUTBOUND_BAD_URL,
      `only http and https URLs can be called, not ${url.protocol}`,
    );
  }
  return url;
}

function bodyOf(context: OutboundContext, invocation: Invocation, ref: DataRef): Uint8Array | Readable {
  if ("bytes" in ref) return ref.bytes;
  const entry = context.data.get(invocation.id, ref.id);
  if (entry.kind === "bytes") return entry.bytes;
  return context.data.takeStream(invocation.id, ref.id);
}
