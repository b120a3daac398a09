import type { Server } from "node:http";
import { IoErrors } from "../errors/io-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";

/** Listens and resolves with the bound port; a taken port becomes SB_IO_LISTEN_FAILED. */
export function listen(server: Server, port: number, host: string, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new SwitchboardError(
          IoErrors.LISTEN_FAILED,
          `${what} cannot listen on ${host}:${port}: ${error.code ?? error.message}`,
          {
            host,
            port,
          },
        ),
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections?.();
  });
}
