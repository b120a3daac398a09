/** The benchmark counter served by @switchboard/sdk's node adapter, on the port given (default: any); prints its port. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createNodeHandler } from "@switchboard/sdk";
import { counterFunctions } from "./counter-functions.js";

const server = createServer(createNodeHandler(counterFunctions));
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () =>
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`),
);
