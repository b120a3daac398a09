/**
 * Which 3xx answers the transport follows, and what the next hop looks like.
 *
 * - 307 and 308 keep the method and the body (RFC 9110), so the body must be replayable:
 *   a stream body is not followed.
 * - 301, 302 and 303 are followed for GET and HEAD only. For any other method OkHttp (and
 *   browsers) resend as a body-less GET, which a function endpoint can never answer with a
 *   reply; Switchboard does not rewrite a request into another one, so the 3xx is the answer.
 * - The target must be http or https, or, from a UNIX-socket URL, a relative location on the
 *   same socket: a server can never steer a call onto a local socket.
 * - Credentials (authorization, cookie, proxy-authorization) are dropped when a hop leaves
 *   the origin, as OkHttp and fetch do.
 */
import { type EndpointUrl, parseEndpointUrl } from "./endpoint-url.js";
import type { HeaderValues } from "./types.js";

const KEEPS_METHOD = new Set([307, 308]);
const GET_OR_HEAD_ONLY = new Set([301, 302, 303]);
const CREDENTIAL_HEADERS = new Set(["authorization", "cookie", "proxy-authorization"]);
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/** Whether a `status` answer to `method` is followed at all (before its Location is read). */
export function isFollowedRedirect(status: number, method: string, replayableBody: boolean): boolean {
  if (KEEPS_METHOD.has(status)) return replayableBody;
  return GET_OR_HEAD_ONLY.has(status) && (method === "GET" || method === "HEAD");
}

export type RedirectTarget = { ok: true; raw: string; url: EndpointUrl } | { ok: false; reason: string };

/** Resolves a Location header against the URL that answered with it. */
export function redirectTarget(fromRaw: string, from: EndpointUrl, location: string): RedirectTarget {
  let raw: string;
  if (from.socketPath !== undefined && !HAS_SCHEME.test(location)) {
    const resolved = new URL(location, `http://localhost${from.path}`);
    raw = `${from.scheme}://${from.socketPath}${resolved.pathname}${resolved.search}`;
  } else {
    try {
      raw = new URL(location, from.socketPath === undefined ? fromRaw : undefined).href;
    } catch {
      return { ok: false, reason: `the Location ${JSON.stringify(location)} is not a URL` };
    }
    if (!/^https?:/i.test(raw)) {
      return { ok: false, reason: `the Location ${JSON.stringify(location)} is not an http or https URL` };
    }
  }
  const parsed = parseEndpointUrl(raw);
  return parsed.ok ? { ok: true, raw, url: parsed.url } : { ok: false, reason: parsed.reason };
}

/** The request headers for the next hop: credentials stay with the origin they were meant for. */
export function headersForHop(
  headers: HeaderValues | undefined,
  from: EndpointUrl,
  to: EndpointUrl,
): HeaderValues | undefined {
  if (!headers || from.poolKey === to.poolKey) return headers;
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !CREDENTIAL_HEADERS.has(name.toLowerCase())),
  );
}
