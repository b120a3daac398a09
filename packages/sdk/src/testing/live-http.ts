import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { NOT_FORWARDED_HEADERS } from "../web/not-forwarded-headers.js";
import type { CallAnswer, OutboundCall } from "./outbound-call.js";

/**
 * Makes a call for real (record mode, or `unmatched: "network"`). node:http keeps repeated
 * response headers and, like the host's transport, does not decompress bodies.
 */
export function callLive(call: OutboundCall, timeoutMs: number): Promise<CallAnswer> {
  const url = new URL(call.url);
  const headers: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(call.headers)) {
    if (!NOT_FORWARDED_HEADERS.has(name)) headers[name] = [...values];
  }
  if (call.body.length > 0) headers["content-length"] = [String(call.body.length)];
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(url, { method: call.method, headers, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () => {
        const pairs: Array<[string, string]> = [];
        const raw = response.rawHeaders;
        for (let index = 0; index + 1 < raw.length; index += 2) {
          pairs.push([(raw[index] as string).toLowerCase(), raw[index + 1] as string]);
        }
        resolve({
          status: response.statusCode ?? 0,
          headers: pairs,
          body: new Uint8Array(Buffer.concat(chunks)),
        });
      });
    });
    request.on("timeout", () =>
      request.destroy(new Error(`${call.method} ${call.url} took over ${timeoutMs} ms`)),
    );
    request.on("error", reject);
    request.end(call.body.length > 0 ? call.body : undefined);
  });
}
