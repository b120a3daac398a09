import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { serve, startServer } from "./support/http-server.js";
import { transportFor } from "./support/test-transport.js";
import { options } from "./support/transport-options.js";

const noRetry = { ...options().retry, retryIoErrors: false };

// Timing bounds are generous: other engineers load the same two cores. The benchmark
// bench/transport-timeouts.ts measures precision; these only prove each timer is ours and fires.
const SLACK_MS = 800;

function elapsedSince(started: number): number {
  return performance.now() - started;
}

test("a server that stops reading the request body hits the write timeout", async (t) => {
  let received = 0;
  const server = await serve(
    t,
    startServer((request) => {
      // Read a little, then stop: the socket buffers fill and the client can send no more.
      request.once("data", (chunk: Buffer) => {
        received += chunk.length;
        request.pause();
      });
    }),
  );
  const transport = transportFor(t);
  const body = Buffer.alloc(64 * 1024 * 1024, 7);
  const started = performance.now();
  await assert.rejects(
    transport.exchange(
      {
        url: server.url,
        method: "POST",
        body,
        options: options({
          writeTimeoutMs: 200,
          readTimeoutMs: 60_000,
          callTimeoutMs: 60_000,
          payloadMaxBytes: body.length,
          retry: noRetry,
        }),
      },
      () => 1,
    ),
    { code: "SB_TRANSPORT_WRITE_TIMEOUT" },
  );
  assert.ok(received > 0, "the server did get the start of the body");
  assert.ok(elapsedSince(started) < 200 + SLACK_MS + 2000, `${elapsedSince(started).toFixed(0)} ms`);
  assert.equal(transport.stats()[0]?.timeouts.write, 1);
});

test("a streamed request body that stalls hits the write timeout; a steady one does not", async (t) => {
  const server = await serve(
    t,
    startServer((request, response) => {
      let size = 0;
      request.on("data", (chunk: Buffer) => {
        size += chunk.length;
      });
      request.on("end", () => response.end(String(size)));
    }),
  );
  const transport = transportFor(t);
  const call = (body: Readable) =>
    transport.exchange(
      {
        url: server.url,
        method: "POST",
        body,
        options: options({ writeTimeoutMs: 300, readTimeoutMs: 5000, callTimeoutMs: 10_000 }),
      },
      (response) => Buffer.from(response.body).toString(),
    );
  async function* steady(): AsyncGenerator<Buffer> {
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      yield Buffer.alloc(1000, i);
    }
  }
  assert.equal(await call(Readable.from(steady())), "5000");
  async function* stalls(): AsyncGenerator<Buffer> {
    yield Buffer.alloc(1000);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    yield Buffer.alloc(1000);
  }
  await assert.rejects(call(Readable.from(stalls())), { code: "SB_TRANSPORT_WRITE_TIMEOUT" });
});

test("waiting for a free pooled connection is bounded by the connect timeout", async (t) => {
  const server = await serve(
    t,
    startServer((_request, response) => setTimeout(() => response.end("ok"), 1500)),
  );
  const transport = transportFor(t);
  const oneConnection = options({ poolSize: 1, connectTimeoutMs: 150, readTimeoutMs: 5000, retry: noRetry });
  const first = transport.exchange({ url: server.url, options: oneConnection }, () => "first");
  const started = performance.now();
  await assert.rejects(
    transport.exchange({ url: server.url, options: oneConnection }, () => "second"),
    {
      code: "SB_TRANSPORT_CONNECT_TIMEOUT",
    },
  );
  const elapsed = elapsedSince(started);
  assert.ok(elapsed >= 140 && elapsed < 150 + SLACK_MS, `${elapsed.toFixed(0)} ms`);
  assert.equal(await first, "first", "the call holding the connection is unaffected");
  assert.equal(server.sockets(), 1);
  assert.equal(transport.stats()[0]?.timeouts.connect, 1);
});

test("the call deadline ends a call still queued for a connection", async (t) => {
  const server = await serve(
    t,
    startServer((_request, response) => setTimeout(() => response.end("ok"), 1500)),
  );
  const transport = transportFor(t);
  const oneConnection = options({
    poolSize: 1,
    connectTimeoutMs: 5000,
    readTimeoutMs: 5000,
    callTimeoutMs: 200,
  });
  const first = transport.exchange(
    { url: server.url, options: { ...oneConnection, callTimeoutMs: 5000 } },
    () => "first",
  );
  const started = performance.now();
  await assert.rejects(
    transport.exchange({ url: server.url, options: oneConnection }, () => "second"),
    {
      code: "SB_TRANSPORT_DEADLINE_EXCEEDED",
    },
  );
  assert.ok(elapsedSince(started) < 200 + SLACK_MS, `${elapsedSince(started).toFixed(0)} ms`);
  assert.equal(await first, "first");
});

test("a slow consumer of a streamed response does not trip the read timeout", async (t) => {
  const server = await serve(
    t,
    startServer((_request, response) => {
      response.writeHead(200);
      response.write("a");
      setTimeout(() => response.end("b"), 20);
    }),
  );
  const transport = transportFor(t);
  const response = await transport.request({ url: server.url, options: options({ readTimeoutMs: 100 }) });
  const chunks: string[] = [];
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    chunks.push(chunk.toString());
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.equal(chunks.join(""), "ab");
});

test("a streamed response that stalls mid-body fails with the read timeout", async (t) => {
  const server = await serve(
    t,
    startServer((_request, response) => {
      response.writeHead(200);
      response.write("a");
    }),
  );
  const transport = transportFor(t);
  const response = await transport.request({ url: server.url, options: options({ readTimeoutMs: 100 }) });
  await assert.rejects(response.text(), { code: "SB_TRANSPORT_READ_TIMEOUT" });
  assert.equal(transport.stats()[0]?.timeouts.read, 1);
});

test("a streamed request body is capped by payload_max_bytes as it flows", async (t) => {
  const server = await serve(
    t,
    startServer((request, response) => {
      request.resume();
      request.on("end", () => response.end("ok"));
    }),
  );
  const transport = transportFor(t);
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let i = 0; i < 10; i++) yield Buffer.alloc(1000);
  }
  const call = (limit: number) =>
    transport.exchange(
      {
        url: server.url,
        method: "POST",
        body: Readable.from(chunks()),
        options: options({ payloadMaxBytes: limit }),
      },
      (response) => Buffer.from(response.body).toString(),
    );
  assert.equal(await call(10_000), "ok");
  await assert.rejects(call(4_500), { code: "SB_TRANSPORT_PAYLOAD_TOO_LARGE" });
});

test("a call deadline past Node's longest timer waits quietly instead of re-arming every millisecond", async (t) => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on("warning", onWarning);
  t.after(() => process.off("warning", onWarning));
  const server = await serve(
    t,
    startServer((_request, response) => {
      setTimeout(() => response.writeHead(200).end("ok"), 50);
    }),
  );
  const transport = transportFor(t);
  const thirtyDays = 30 * 86_400_000;
  for (let call = 0; call < 3; call++) {
    const answer = await transport.exchange(
      {
        url: server.url,
        method: "POST",
        body: "x",
        options: options({
          callTimeoutMs: thirtyDays,
          readTimeoutMs: thirtyDays,
          connectTimeoutMs: thirtyDays,
        }),
      },
      (response) => Buffer.from(response.body).toString(),
    );
    assert.equal(answer, "ok");
  }
  // Warnings are emitted on the next tick.
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    warnings.filter((name) => name === "TimeoutOverflowWarning"),
    [],
  );
});
