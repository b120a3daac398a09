/** The baseline of bench/web-function.ts: the same work in a bare node:http handler. Prints its port. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { order, priced } from "./web-bench-work.js";

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    let value: unknown;
    try {
      value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      response.writeHead(400).end("bad json");
      return;
    }
    const result = order.safeParse(value);
    if (!result.success) {
      response.writeHead(400).end("bad order");
      return;
    }
    const body = JSON.stringify(priced(result.data));
    response.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    response.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => console.log((server.address() as AddressInfo).port));
process.once("SIGTERM", () => process.exit(0));
