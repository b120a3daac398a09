import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Runtime } from "../../src/runtime.js";

export const CACHE_MODULE = new URL("./host/cache-module.ts", import.meta.url).pathname;
export const CACHE_MODULE_B = new URL("./host/cache-module-b.ts", import.meta.url).pathname;

/** A module YAML document for `file` with `workers` workers and extra spec lines. */
export function cacheModuleDoc(file: string, workers: number, spec: readonly string[] = []): string {
  return [
    "kind: io.switchboard.functions.v1/module",
    "spec:",
    `  module: ${file}`,
    `  workers: ${workers}`,
    ...spec.map((line) => `  ${line}`),
  ].join("\n");
}

export interface CacheHost {
  readonly runtime: Runtime;
  /** Base URL of the web functions: `${url}/<name>`. */
  readonly url: string;
  stop(): Promise<void>;
}

/** A Runtime with a web listener on a free port, shared by the tests of one suite. */
export async function startCacheHost(documents: readonly string[]): Promise<CacheHost> {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-hostcache-"));
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    [...documents, "kind: io.switchboard.functions.v1/web\nspec:\n  port: 0\n"].join("\n---\n"),
  );
  let runtime: Runtime;
  try {
    runtime = await Runtime.start({ modules: [file], dataDir: join(dir, "data") });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const listener = runtime.host.listeners[0];
  if (!listener) throw new Error("no web listener started");
  return {
    runtime,
    url: `${listener.url}/functions`,
    async stop() {
      await runtime.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A loopback upstream that counts requests and answers through `answer` (which may wait). */
export interface CountingUpstream {
  readonly url: string;
  calls: number;
  answer: (
    request: IncomingMessage,
    body: string,
    call: number,
  ) => Promise<{ status: number; body: string | Buffer }>;
  close(): Promise<void>;
}

export async function countingUpstream(): Promise<CountingUpstream> {
  const upstream: CountingUpstream = {
    url: "",
    calls: 0,
    answer: async (_request, body, call) => ({ status: 200, body: `${body}#${call}` }),
    close: async () => {},
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const call = ++upstream.calls;
      upstream
        .answer(request, Buffer.concat(chunks).toString(), call)
        .then(({ status, body }) => {
          response.writeHead(status, { "content-type": "text/plain" });
          response.end(body);
        })
        .catch(() => response.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  Object.assign(upstream, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
  return upstream;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
