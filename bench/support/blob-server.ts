/** The origin of bench/proxy.ts: answers every request with the same N-byte body. Prints its port. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const size = Number(process.argv[2] ?? 1024 * 1024);
const blob = Buffer.alloc(size, 0x62);
const server = createServer((request, response) => {
  request.resume();
  request.on("end", () => {
    response.writeHead(200, { "content-type": "application/octet-stream", "content-length": size });
    response.end(blob);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => console.log((server.address() as AddressInfo).port));
process.once("SIGTERM", () => process.exit(0));
