/**
 * Parses the four URL schemes a function endpoint may use. For the UNIX-socket schemes the
 * socket file is the path up to (and including) the first segment ending in `.sock`; the
 * rest is the HTTP path, kept exactly as written (StateFun's OkHttp bridge percent-encoded
 * it, which servers then failed to route).
 */
export type EndpointScheme = "http" | "https" | "http+unix" | "https+unix";

export interface EndpointUrl {
  readonly scheme: EndpointScheme;
  /** True for https and https+unix: https+unix really speaks TLS over the socket. */
  readonly tls: boolean;
  /** Absolute socket file path, for the UNIX schemes only. */
  readonly socketPath?: string;
  /** Pool key: `http://host:port`, `https://host:port`, or `unix:<socket>` / `unix+tls:<socket>`. */
  readonly poolKey: string;
  /** Origin to address the HTTP request to (a placeholder host for UNIX sockets). */
  readonly origin: string;
  /** Request target: path plus query, never empty. */
  readonly path: string;
}

export type EndpointUrlResult = { ok: true; url: EndpointUrl } | { ok: false; reason: string };

const SCHEMES: readonly EndpointScheme[] = ["http+unix", "https+unix", "http", "https"];

export function parseEndpointUrl(raw: string): EndpointUrlResult {
  const match = /^([a-z+]+):\/\/(.*)$/i.exec(raw);
  const scheme = match?.[1]?.toLowerCase() as EndpointScheme | undefined;
  if (!match || !scheme || !SCHEMES.includes(scheme)) {
    return { ok: false, reason: `unsupported URL "${raw}": expected one of ${SCHEMES.join(", ")}` };
  }
  const rest = match[2] ?? "";
  if (scheme === "http+unix" || scheme === "https+unix") return parseUnix(raw, scheme, rest);

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `malformed URL "${raw}"` };
  }
  if (!url.hostname) return { ok: false, reason: `URL "${raw}" has no host` };
  return {
    ok: true,
    url: {
      scheme,
      tls: scheme === "https",
      poolKey: url.origin,
      origin: url.origin,
      path: `${url.pathname || "/"}${url.search}`,
    },
  };
}

function parseUnix(raw: string, scheme: "http+unix" | "https+unix", rest: string): EndpointUrlResult {
  if (!rest.startsWith("/")) {
    return {
      ok: false,
      reason: `"${raw}": a ${scheme} URL needs an absolute socket path (${scheme}:///path/x.sock/...)`,
    };
  }
  const segments = rest.slice(1).split("/");
  const sockIndex = segments.findIndex((segment) => segment.endsWith(".sock"));
  if (sockIndex < 0) {
    return { ok: false, reason: `"${raw}": no path segment ends in ".sock", so the socket file is unknown` };
  }
  const socketPath = `/${segments.slice(0, sockIndex + 1).join("/")}`;
  const httpPath = `/${segments.slice(sockIndex + 1).join("/")}`;
  const tls = scheme === "https+unix";
  return {
    ok: true,
    url: {
      scheme,
      tls,
      socketPath,
      poolKey: `${tls ? "unix+tls" : "unix"}:${socketPath}`,
      origin: tls ? "https://localhost" : "http://localhost",
      path: httpPath,
    },
  };
}
