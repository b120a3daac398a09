import { createServer, type Server } from "node:net";

/**
 * Set to `0` (or `main`) to keep web functions on the main-thread path even where workers
 * could share the listening port: for comparing the two paths on one Node, and as a way out.
 */
export const WEB_IN_WORKERS_ENV = "SWITCHBOARD_WEB_IN_WORKERS";

let probed: Promise<boolean> | undefined;

/**
 * Whether this Node and OS let several sockets listen on one port with the kernel spreading
 * connections among them (`reusePort`, Node >= 22.12 / 23.1 on Linux). Found out by trying:
 * two loopback servers on one port, which an older Node (it ignores the option) refuses with
 * EADDRINUSE. Other systems accept SO_REUSEPORT without balancing, so only Linux counts.
 */
export function reusePortSupported(): Promise<boolean> {
  probed ??= process.platform === "linux" ? probe() : Promise.resolve(false);
  return probed;
}

/** Whether web functions should be served inside the workers: the platform can, and no one said no. */
export async function webInWorkers(environment: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const setting = environment[WEB_IN_WORKERS_ENV]?.trim().toLowerCase();
  if (setting === "0" || setting === "false" || setting === "main") return false;
  return reusePortSupported();
}

async function probe(): Promise<boolean> {
  const first = createServer();
  const second = createServer();
  try {
    const port = await listenOn(first, 0);
    await listenOn(second, port);
    return true;
  } catch {
    return false;
  } finally {
    first.close();
    second.close();
  }
}

function listenOn(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host: "127.0.0.1", reusePort: true }, () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}
