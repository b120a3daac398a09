/**
 * Baseline server: one plain HTTP hop doing the same logical work as the runtime path
 * (count messages per key) in memory, with nothing durable. Prints its port on stdout.
 *   plain-counter-server.ts [upstreamUrl]
 * With an upstream URL it is instead a two-hop proxy: it forwards each request through an
 * undici Pool and relays the answer.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";

const upstream = process.argv[2];
const counts = new Map<string, number>();
const pool = upstream ? new Pool(new URL(upstream).origin, { connections: 128, pipelining: 1 }) : undefined;

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    if (pool) {
      pool
        .request({ path: request.url ?? "/", method: "POST", body: Buffer.concat(chunks) })
        .then(async (upstreamResponse) => {
          const body = Buffer.from(await upstreamResponse.body.arrayBuffer());
          response.writeHead(upstreamResponse.statusCode, { "content-length": body.length }).end(body);
        })
        .catch(() => response.writeHead(502).end());
      return;
    }
    const key = request.url ?? "/";
    counts.set(key, (counts.get(key) ?? 0) + 1);
    response.writeHead(200, { "content-length": 2 }).end("ok");
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
