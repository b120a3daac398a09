/**
 * An upstream that answers every request after a fixed delay (default 20 ms), like a slow
 * API; prints its port on the first stdout line. Usage: slow-upstream.ts [delayMs] [bodyBytes]
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const delayMs = Number(process.argv[2] ?? 20);
const body = Buffer.alloc(Number(process.argv[3] ?? 1024), 0x61);

const server = createServer((request, response) => {
  request.resume();
  request.on("end", () => {
    setTimeout(() => {
      response.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
      response.end(body);
    }, delayMs);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
