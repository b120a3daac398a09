/**
 * A loopback port whose connects hang, for connect-timeout measurements: it listens with
 * a backlog of 1 and then blocks its own event loop, so nothing is ever accepted. Once the
 * kernel's accept queue holds two connections, further SYNs are dropped and connect()
 * stalls, as with a blackholed host. Prints its port, then blocks until killed.
 */

import type { AddressInfo } from "node:net";
import { createServer } from "node:net";

const server = createServer();
server.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`, () => {
    setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30 * 60_000), 10);
  });
});
