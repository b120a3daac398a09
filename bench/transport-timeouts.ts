/**
 * Timeout precision: for each kind of timeout, observed minus configured over N trials,
 * through the transport and, where undici has an equivalent, through undici's own timers
 * (headersTimeout, bodyTimeout, connect timeout) in the same run. Trials of one kind run
 * concurrently with random start offsets so they do not share a timer tick.
 * Goal: our p99 <= 50 ms for every kind.
 *
 *   npm run bench -- transport-timeouts [trials=30] [timeoutMs=1000]
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { Readable } from "node:stream";
import { Pool } from "undici";
import { createTransport, type TransportOptions } from "../packages/runtime/src/transport/index.js";
import { startServerProcess, stopProcess } from "./support/processes.js";
import { benchOptions, percentile } from "./support/transport-options.js";

const trials = Number(process.argv[2] ?? 30);
const timeoutMs = Number(process.argv[3] ?? 1000);
const noRetry = { ...benchOptions().retry, retryIoErrors: false };
const generous = timeoutMs * 20;

async function listen(handler: (request: IncomingMessage, response: ServerResponse) => void) {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** A request body that never ends and records when the client last pulled a slice. */
function endlessBody(): { body: Readable; lastPull: () => number } {
  const slice = Buffer.alloc(64 * 1024);
  let last = performance.now();
  const body = new Readable({
    highWaterMark: 0,
    read() {
      last = performance.now();
      this.push(slice);
    },
  });
  return { body, lastPull: () => last };
}

/** Runs `trials` concurrent trials with random offsets; each resolves to its lateness in ms. */
async function measure(trial: () => Promise<number>): Promise<number[]> {
  const late = await Promise.all(
    Array.from({ length: trials }, async () => {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 500));
      return trial();
    }),
  );
  return late.sort((a, b) => a - b);
}

/** Time from `from()` to the failure of `run`, minus the configured timeout. */
async function lateness(run: () => Promise<unknown>, from: () => number, expect: RegExp): Promise<number> {
  try {
    await run();
  } catch (error) {
    const ended = performance.now();
    const code = (error as { code?: string }).code ?? String(error);
    if (!expect.test(code)) throw new Error(`unexpected failure ${code}`);
    return ended - from() - timeoutMs;
  }
  throw new Error("the call did not time out");
}

function ours(overrides: Partial<TransportOptions>): TransportOptions {
  return benchOptions({ callTimeoutMs: generous, readTimeoutMs: generous, retry: noRetry, ...overrides });
}

const silent = await listen(() => {});
const stallsMidBody = await listen((_request, response) => {
  response.writeHead(200);
  response.write("first chunk");
});
const neverReads = await listen((request) => request.pause());
const blackhole = await startServerProcess("blackhole-server.ts");
const fillers: Socket[] = [];
for (let i = 0; i < 4; i++) fillers.push(connect(blackhole.port, "127.0.0.1").on("error", () => {}));
await new Promise((resolve) => setTimeout(resolve, 200));
const blackholeUrl = `http://127.0.0.1:${blackhole.port}`;

const rows: Array<{ kind: string; ours: number[]; undici?: number[]; undiciTimer?: string }> = [];
const transport = createTransport();
try {
  // read: the wait for response headers.
  rows.push({
    kind: "read (headers)",
    ours: await measure(() => {
      const started = performance.now();
      return lateness(
        () => transport.exchange({ url: silent.url, options: ours({ readTimeoutMs: timeoutMs }) }, () => 0),
        () => started,
        /READ_TIMEOUT/,
      );
    }),
    undici: await measure(async () => {
      const pool = new Pool(silent.url, { headersTimeout: timeoutMs });
      const started = performance.now();
      try {
        return await lateness(
          () => pool.request({ path: "/", method: "GET" }),
          () => started,
          /HEADERS_TIMEOUT/,
        );
      } finally {
        void pool.destroy();
      }
    }),
    undiciTimer: "headersTimeout",
  });

  // read: a gap between body chunks.
  rows.push({
    kind: "read (body gap)",
    ours: await measure(async () => {
      const response = await transport.request({
        url: stallsMidBody.url,
        options: ours({ readTimeoutMs: timeoutMs }),
      });
      const started = performance.now();
      return lateness(
        () => response.text(),
        () => started,
        /READ_TIMEOUT/,
      );
    }),
    undici: await measure(async () => {
      const pool = new Pool(stallsMidBody.url, { bodyTimeout: timeoutMs });
      try {
        const response = await pool.request({ path: "/", method: "GET" });
        const started = performance.now();
        return await lateness(
          () => response.body.text(),
          () => started,
          /BODY_TIMEOUT/,
        );
      } finally {
        void pool.destroy();
      }
    }),
    undiciTimer: "bodyTimeout",
  });

  // write: a server that stops reading the request body.
  rows.push({
    kind: "write",
    ours: await measure(() => {
      const { body, lastPull } = endlessBody();
      return lateness(
        () =>
          transport.exchange(
            { url: neverReads.url, method: "POST", body, options: ours({ writeTimeoutMs: timeoutMs }) },
            () => 0,
          ),
        lastPull,
        /WRITE_TIMEOUT/,
      );
    }),
    undici: await measure(async () => {
      // undici has no write timeout; its headers timer runs (and is refreshed on backpressure)
      // while a body is sent, so it is the nearest equivalent.
      const pool = new Pool(neverReads.url, { headersTimeout: timeoutMs });
      const { body, lastPull } = endlessBody();
      try {
        return await lateness(
          () => pool.request({ path: "/", method: "POST", body }),
          lastPull,
          /HEADERS_TIMEOUT/,
        );
      } finally {
        void pool.destroy();
      }
    }),
    undiciTimer: "headersTimeout",
  });

  // connect: a TCP connect that never completes.
  rows.push({
    kind: "connect (TCP)",
    ours: await measure(async () => {
      const fresh = createTransport();
      const started = performance.now();
      try {
        return await lateness(
          () =>
            fresh.exchange({ url: blackholeUrl, options: ours({ connectTimeoutMs: timeoutMs }) }, () => 0),
          () => started,
          /CONNECT_TIMEOUT/,
        );
      } finally {
        void fresh.close();
      }
    }),
    undici: await measure(async () => {
      const pool = new Pool(blackholeUrl, { connect: { timeout: timeoutMs } });
      const started = performance.now();
      try {
        return await lateness(
          () => pool.request({ path: "/", method: "GET" }),
          () => started,
          /CONNECT_TIMEOUT/,
        );
      } finally {
        void pool.destroy();
      }
    }),
    undiciTimer: "connect.timeout",
  });

  // connect: the wait for a free pooled connection (undici has no bound for it).
  rows.push({
    kind: "connect (pool wait)",
    ours: await measure(async () => {
      const fresh = createTransport();
      const options = ours({ poolSize: 1, connectTimeoutMs: timeoutMs });
      const holder = fresh.exchange({ url: silent.url, options }, () => 0).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 20));
      const started = performance.now();
      try {
        return await lateness(
          () => fresh.exchange({ url: silent.url, options }, () => 0),
          () => started,
          /CONNECT_TIMEOUT/,
        );
      } finally {
        await fresh.close();
        await holder;
      }
    }),
  });

  // call: the whole call's deadline, with no per-phase timer set.
  rows.push({
    kind: "call",
    ours: await measure(() => {
      const started = performance.now();
      const { readTimeoutMs: _unused, ...withoutRead } = ours({ callTimeoutMs: timeoutMs });
      return lateness(
        () => transport.exchange({ url: silent.url, options: withoutRead }, () => 0),
        () => started,
        /DEADLINE_EXCEEDED/,
      );
    }),
  });
} finally {
  await transport.close();
  for (const socket of fillers) socket.destroy();
  silent.close();
  stallsMidBody.close();
  neverReads.close();
  await stopProcess(blackhole.child);
}

const cell = (values: number[] | undefined) =>
  values
    ? `${percentile(values, 50).toFixed(1)} / ${percentile(values, 99).toFixed(1)} / ${(values.at(-1) ?? Number.NaN).toFixed(1)}`
    : "n/a";
console.log(
  `transport-timeouts: ${trials} trials per kind, configured ${timeoutMs} ms, node ${process.version}`,
);
console.log("observed minus configured, ms (p50 / p99 / max)");
console.log("| timeout | transport | undici | undici timer |");
console.log("| --- | --- | --- | --- |");
for (const row of rows)
  console.log(`| ${row.kind} | ${cell(row.ours)} | ${cell(row.undici)} | ${row.undiciTimer ?? "none"} |`);
const worst = Math.max(...rows.map((row) => percentile(row.ours, 99)));
console.log(`worst transport p99: ${worst.toFixed(1)} ms (goal <= 50)`);
