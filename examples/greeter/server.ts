/** Serves the greeter functions over HTTP: `npm start` runs this (PORT overrides 8000). */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createNodeHandler } from "@switchboard/sdk";
import { functions } from "./functions.js";

export async function startGreeterServer(
  port: number,
  host = "127.0.0.1",
): Promise<{ server: Server; port: number }> {
  const server = createServer(createNodeHandler(functions));
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `greeter functions cannot listen on ${host}:${port}: ${error.code ?? error.message}; module.yaml calls them there (urlPathTemplate), so stop what holds the port`,
        ),
      ),
    );
    server.listen(port, host, resolve);
  });
  return { server, port: (server.address() as AddressInfo).port };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { port } = await startGreeterServer(Number(process.env.PORT ?? 8000));
  console.log(`greeter functions listening on http://127.0.0.1:${port}/{example/person,example/greeter}`);
}
