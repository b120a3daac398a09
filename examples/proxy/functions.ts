/**
 * The seed's pass-through proxy: every method and path under /functions/proxy/ goes to the
 * configured origin, and the origin's answer comes back. Neither body enters this function:
 * both stay Data handles in the host, so large bodies stream through in bounded memory, and
 * a caller that goes away aborts the origin call.
 */
import { http, WebResponse, webFunction } from "@switchboard/sdk";

/** Response headers worth relaying (Momento's examples drop them all). */
const RELAYED = [
  "content-type",
  "content-length",
  "content-encoding",
  "etag",
  "last-modified",
  "cache-control",
];
/** Request headers worth relaying. */
const FORWARDED = ["content-type", "accept", "accept-encoding", "if-none-match", "if-modified-since"];

export const proxy = webFunction({
  name: "proxy",
  input: "data",
  handler: async (body, request) => {
    const query = new URLSearchParams();
    for (const [key, values] of Object.entries(request.query))
      for (const value of values) query.append(key, value);
    const headers: Record<string, readonly string[]> = {};
    for (const name of FORWARDED) {
      const values = request.headers[name];
      if (values) headers[name] = values;
    }
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    const upstream = await http.invoke({
      upstream: "origin",
      url: `${request.path || "/"}${query.size > 0 ? `?${query}` : ""}`,
      method: request.method,
      headers,
      ...(hasBody ? { body } : {}),
    });
    const response = new WebResponse(upstream.status).body(upstream.body);
    for (const name of RELAYED)
      for (const value of upstream.headers[name] ?? []) response.header(name, value);
    return response;
  },
});
