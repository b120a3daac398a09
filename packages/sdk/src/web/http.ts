import { Data } from "./data.js";
import { hostBridge } from "./host-bridge.js";
import type { HttpRequest, HttpResponse } from "./http-types.js";
import type { WireHttpRequest, WireHttpResponse } from "./wire.js";
import { headerLookup, pairsToRecord } from "./wire.js";

/**
 * Outbound HTTP through the host: one hot connection pool per origin shared by every
 * function, the module's outbound policy checked host-side, non-2xx answered as responses.
 * Calls are promises, so several can be in flight at once.
 */
export const http = {
  async invoke(request: HttpRequest): Promise<HttpResponse> {
    const bridge = hostBridge("http.invoke()");
    const headers: Array<[string, string]> = [];
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      for (const one of typeof value === "string" ? [value] : value) headers.push([name.toLowerCase(), one]);
    }
    let body = request.body;
    if (request.json !== undefined) {
      body = JSON.stringify(request.json);
      if (!headers.some(([name]) => name === "content-type"))
        headers.push(["content-type", "application/json"]);
    }
    const wire: WireHttpRequest = {
      url: request.url,
      method: request.method ?? (body === undefined ? "GET" : "POST"),
      headers,
      ...(request.upstream !== undefined ? { upstream: request.upstream } : {}),
      ...(body !== undefined ? { body: Data.refOf(Data.isData(body) ? body : Data.from(body)) } : {}),
      ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}),
      ...(request.retry !== undefined ? { retry: request.retry } : {}),
      ...(request.maxRedirects !== undefined ? { maxRedirects: request.maxRedirects } : {}),
    };
    const reply = (await bridge.call("http.invoke", wire)) as WireHttpResponse;
    const responseHeaders = pairsToRecord(reply.headers);
    return {
      status: reply.status,
      headers: responseHeaders,
      body: Data.fromHost(reply.body),
      header: headerLookup(responseHeaders),
    };
  },
};
