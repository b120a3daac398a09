/**
 * What one buffered call through the host transport costs the CALLER's CPU, against two
 * baselines in the same run on the same server and pool settings: undici's `request` API
 * (body read as an ArrayBuffer) and undici's raw `dispatch` with a handler collecting chunks.
 * The runtime makes one such call per batch, so with random keys this is paid per message.
 *
 *   npm run bench -- transport-overhead [calls=20000] [concurrency=32]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { Pool } from "undici";
import { transportDefaults } from "../packages/runtime/src/config/transport-defaults.js";
import { createTransport } from "../packages/runtime/src/transport/index.js";
import { stopProcess } from "./support/processes.js";

const calls = Number(process.argv[2] ?? 20_000);
const concurrency = Number(process.argv[3] ?? 32);
const REQUEST_BODY = Buffer.alloc(80, 1);
const HEADERS = { "content-type": "application/octet-stream" };

/** A server answering every POST with 20 bytes, in its own process. */
async function startServer(): Promise<{ port: number; child: ChildProcess }> {
  const source = `require("node:http").createServer((q, s) => { q.resume(); q.on("end", () =>
    s.writeHead(200, { "content-type": "application/octet-stream", "content-length": 20 }).end(Buffer.alloc(20))) })
    .listen(0, "127.0.0.1", function () { console.log(this.address().port) })`;
  const child = spawn(process.execPath, ["-e", source], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve) =>
    child.stdout?.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
  );
  return { port, child };
}

async function measure(call: () => Promise<unknown>): Promise<{ cpuMs: number; perSecond: number }> {
  let left = calls;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await call();
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  return {
    cpuMs: (cpu.user + cpu.system) / 1000 / calls,
    perSecond: (calls / (performance.now() - started)) * 1000,
  };
}

const server = await startServer();
const url = `http://127.0.0.1:${server.port}/fn`;
const transport = createTransport();
const options = transportDefaults("async");
const pool = new Pool(`http://127.0.0.1:${server.port}`, { connections: options.poolSize, pipelining: 1 });

const variants: Record<string, () => Promise<unknown>> = {
  "transport.exchange": () =>
    transport.exchange({ url, method: "POST", headers: HEADERS, body: REQUEST_BODY, options }, (r) => r.body),
  "undici request": async () => {
    const response = await pool.request({
      path: "/fn",
      method: "POST",
      headers: HEADERS,
      body: REQUEST_BODY,
    });
    return response.body.arrayBuffer();
  },
  "undici dispatch": () =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      pool.dispatch(
        { path: "/fn", method: "POST", headers: HEADERS, body: REQUEST_BODY },
        {
          onConnect() {},
          onHeaders: () => true,
          onData: (chunk: Buffer) => chunks.push(chunk) > 0,
          onComplete: () => resolve(Buffer.concat(chunks)),
          onError: reject,
        },
      );
    }),
};

console.log(
  `transport-overhead: ${calls} calls per round, concurrency ${concurrency}, node ${process.version}`,
);
console.log("| round | variant | caller CPU ms/call | calls/s | CPU vs undici dispatch |");
console.log("| --- | --- | --- | --- | --- |");
try {
  // Round 1 warms the JIT; round 2 is the one to read.
  for (const round of [1, 2]) {
    const results: Array<[string, { cpuMs: number; perSecond: number }]> = [];
    for (const [name, call] of Object.entries(variants)) results.push([name, await measure(call)]);
    const base = results.find(([name]) => name === "undici dispatch")?.[1].cpuMs ?? Number.NaN;
    for (const [name, result] of results) {
      console.log(
        `| ${round} | ${name} | ${result.cpuMs.toFixed(4)} | ${Math.round(result.perSecond)} | ${(result.cpuMs / base).toFixed(2)} |`,
      );
    }
  }
} finally {
  await transport.close();
  await pool.close();
  await stopProcess(server.child);
}
