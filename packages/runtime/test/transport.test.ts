import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { startServer, type TestServer } from "./support/http-server.js";
import { tempDir } from "./support/temp-dir.js";
import { transportFor } from "./support/test-transport.js";
import { asyncRetry, options } from "./support/transport-options.js";

function withServer(t: { after(fn: () => unknown): void }, server: TestServer): TestServer {
  t.after(() => server.close());
  return server;
}

test("503 twice then 200 is retried within the budget", async (t) => {
  let calls = 0;
  const server = withServer(
    t,
    await startServer((_request, response) => {
      calls++;
      response.writeHead(calls <= 2 ? 503 : 200).end(calls <= 2 ? "" : "ok");
    }),
  );
  const transport = transportFor(t);
  const result = await transport.exchange(
    { url: `${server.url}/x`, method: "POST", body: "b", options: options() },
    (response) => ({
      body: Buffer.from(response.body).toString(),
      attempts: response.attempts,
    }),
  );
  assert.deepEqual(result, { body: "ok", attempts: 3 });
});

test("400 is not retried by the default profile but is by the async profile", async (t) => {
  let calls = 0;
  const server = withServer(
    t,
    await startServer((_request, response) => {
      calls++;
      response.writeHead(calls === 1 ? 400 : 200).end("ok");
    }),
  );
  const transport = transportFor(t);
  await assert.rejects(
    transport.exchange({ url: server.url, method: "POST", body: "b", options: options() }, () => 1),
    { code: "SB_TRANSPORT_HTTP_STATUS" },
  );
  assert.equal(calls, 1);
  calls = 0;
  const attempts = await transport.exchange(
    { url: server.url, method: "POST", body: "b", options: options({ profile: "async", retry: asyncRetry }) },
    (response) => response.attempts,
  );
  assert.equal(attempts, 2);
});

test("an invalid response is retried only when the policy says so", async (t) => {
  const server = withServer(
    t,
    await startServer((_request, response) => response.writeHead(200).end("garbage")),
  );
  const transport = transportFor(t);
  let interpreted = 0;
  const reject = () => {
    interpreted++;
    throw Object.assign(new Error("bad"), {});
  };
  const { invalidResponse } = await import("../src/transport/index.js");
  const rejectInvalid = () => {
    interpreted++;
    throw invalidResponse("not a reply");
  };
  await assert.rejects(
    transport.exchange({ url: server.url, method: "POST", body: "b", options: options() }, rejectInvalid),
    {
      code: "SB_TRANSPORT_INVALID_RESPONSE",
    },
  );
  assert.equal(interpreted, 1);
  interpreted = 0;
  await assert.rejects(
    transport.exchange(
      {
        url: server.url,
        method: "POST",
        body: "b",
        options: options({ callTimeoutMs: 200, retry: asyncRetry }),
      },
      rejectInvalid,
    ),
    { code: "SB_TRANSPORT_DEADLINE_EXCEEDED" },
  );
  assert.ok(interpreted > 1, `retried ${interpreted} times`);
  await assert.rejects(
    transport.exchange({ url: server.url, method: "POST", body: "b", options: options() }, reject),
    /bad/,
  );
});

test("a server that never answers hits the read timeout, which is retried until the call deadline", async (t) => {
  const server = withServer(t, await startServer(() => {}));
  const transport = transportFor(t);
  const started = performance.now();
  await assert.rejects(
    transport.exchange(
      {
        url: server.url,
        method: "POST",
        body: "b",
        options: options({ readTimeoutMs: 100, callTimeoutMs: 350 }),
      },
      () => 1,
    ),
    (error: { code: string; details: { attempts: number } }) => {
      assert.equal(error.code, "SB_TRANSPORT_DEADLINE_EXCEEDED");
      assert.ok(error.details.attempts >= 2, `attempts ${error.details.attempts}`);
      return true;
    },
  );
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 300 && elapsed < 1000, `deadline held: ${elapsed.toFixed(0)} ms`);
});

test("a read timeout alone fails the call when I/O errors are not retried", async (t) => {
  const server = withServer(t, await startServer(() => {}));
  const transport = transportFor(t);
  const noIoRetry = { ...options().retry, retryIoErrors: false };
  await assert.rejects(
    transport.exchange(
      {
        url: server.url,
        method: "POST",
        body: "b",
        options: options({ readTimeoutMs: 80, retry: noIoRetry }),
      },
      () => 1,
    ),
    { code: "SB_TRANSPORT_READ_TIMEOUT" },
  );
});

test("a server that stops mid-body fails the read", async (t) => {
  const server = withServer(
    t,
    await startServer((_request, response) => {
      response.writeHead(200, { "content-length": 100 });
      response.write("partial");
      setTimeout(() => response.destroy(), 20);
    }),
  );
  const transport = transportFor(t);
  const noRetry = { ...options().retry, retryIoErrors: false };
  await assert.rejects(
    transport.exchange(
      { url: server.url, method: "POST", body: "b", options: options({ retry: noRetry }) },
      () => 1,
    ),
    { code: "SB_TRANSPORT_CONNECTION_RESET" },
  );
});

test("Retry-After is honoured within the budget", async (t) => {
  let calls = 0;
  const times: number[] = [];
  const server = withServer(
    t,
    await startServer((_request, response) => {
      calls++;
      times.push(performance.now());
      if (calls === 1) response.writeHead(429, { "retry-after": "1" }).end();
      else response.writeHead(200).end("ok");
    }),
  );
  const transport = transportFor(t);
  await transport.exchange(
    { url: server.url, method: "POST", body: "b", options: options({ callTimeoutMs: 3000 }) },
    () => 1,
  );
  assert.ok((times[1] ?? 0) - (times[0] ?? 0) >= 950, "waited about a second");
  calls = 0;
  await assert.rejects(
    transport.exchange(
      { url: server.url, method: "POST", body: "b", options: options({ callTimeoutMs: 300 }) },
      () => 1,
    ),
    { code: "SB_TRANSPORT_DEADLINE_EXCEEDED" },
    "a Retry-After past the deadline ends the call at once",
  );
});

test("payload_max_bytes caps the response with and without Content-Length, and the request", async (t) => {
  const big = Buffer.alloc(4096, 1);
  const server = withServer(
    t,
    await startServer((request, response) => {
      if (request.url === "/declared") response.writeHead(200, { "content-length": big.length }).end(big);
      else {
        response.writeHead(200);
        response.write(big);
        response.end(big);
      }
    }),
  );
  const transport = transportFor(t);
  const capped = options({ payloadMaxBytes: 1024 });
  for (const path of ["/declared", "/chunked"]) {
    await assert.rejects(
      transport.exchange({ url: `${server.url}${path}`, method: "GET", options: capped }, () => 1),
      {
        code: "SB_TRANSPORT_PAYLOAD_TOO_LARGE",
      },
    );
    const streamed =
      path === "/chunked"
        ? await transport.request({ url: `${server.url}${path}`, options: capped })
        : undefined;
    if (streamed) await assert.rejects(streamed.bytes(), { code: "SB_TRANSPORT_PAYLOAD_TOO_LARGE" });
  }
  await assert.rejects(
    transport.exchange({ url: server.url, method: "POST", body: big, options: capped }, () => 1),
    {
      code: "SB_TRANSPORT_PAYLOAD_TOO_LARGE",
    },
  );
});

test("connections are pooled: many sequential calls reuse one socket", async (t) => {
  const server = withServer(t, await startServer((_request, response) => response.end("ok")));
  const transport = transportFor(t);
  for (let i = 0; i < 20; i++) await transport.exchange({ url: server.url, options: options() }, () => 1);
  // A reply can complete a microtask before undici marks its connection free, so the next
  // call may open a second one; never more.
  assert.ok(server.sockets() <= 2, `${server.sockets()} sockets for 20 calls`);
  const [stats] = transport.stats();
  assert.equal(stats?.requests, 20);
  assert.equal(stats?.reusedConnections, 20 - server.sockets());
});

test("pool_size caps connections under concurrency", async (t) => {
  const server = withServer(
    t,
    await startServer((_request, response) => setTimeout(() => response.end("ok"), 20)),
  );
  const transport = transportFor(t);
  await Promise.all(
    Array.from({ length: 30 }, () =>
      transport.exchange({ url: server.url, options: options({ poolSize: 3 }) }, () => 1),
    ),
  );
  assert.equal(server.sockets(), 3);
});

test("pool_ttl rotates connections", async (t) => {
  const server = withServer(t, await startServer((_request, response) => response.end("ok")));
  const transport = transportFor(t);
  const ttl = options({ poolTtlMs: 50 });
  await transport.exchange({ url: server.url, options: ttl }, () => 1);
  await new Promise((resolve) => setTimeout(resolve, 80));
  await transport.exchange({ url: server.url, options: ttl }, () => 1);
  assert.equal(server.sockets(), 2);
});

test("a refused connection is a catalogued error", async (t) => {
  const transport = transportFor(t);
  const noRetry = { ...options().retry, retryIoErrors: false };
  await assert.rejects(
    transport.exchange({ url: "http://127.0.0.1:1/x", options: options({ retry: noRetry }) }, () => 1),
    {
      code: "SB_TRANSPORT_CONNECTION_REFUSED",
    },
  );
});

test("http+unix sends the path as written over a UNIX socket", async (t) => {
  const socket = join(tempDir(t), "fn.sock");
  const paths: string[] = [];
  const server = withServer(
    t,
    await startServer((request, response) => {
      paths.push(request.url ?? "");
      response.end("ok");
    }, socket),
  );
  const transport = transportFor(t);
  const body = await transport.exchange(
    { url: `${server.url}/greeter/hello?x=1`, method: "POST", body: "b", options: options() },
    (response) => Buffer.from(response.body).toString(),
  );
  assert.equal(body, "ok");
  assert.deepEqual(paths, ["/greeter/hello?x=1"]);
});

test("a streamed response can be piped without buffering and the caller's signal aborts a call", async (t) => {
  const server = withServer(
    t,
    await startServer((request, response) => {
      if (request.url === "/slow") return;
      response.writeHead(200);
      for (let i = 0; i < 10; i++) response.write(Buffer.alloc(1024, i));
      response.end();
    }),
  );
  const transport = transportFor(t);
  const response = await transport.request({ url: server.url, options: options() });
  let chunks = 0;
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    chunks++;
    size += chunk.length;
  }
  assert.equal(size, 10 * 1024);
  assert.ok(chunks >= 1);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(
    transport.request({ url: `${server.url}/slow`, options: options(), signal: controller.signal }),
    {
      code: "SB_TRANSPORT_ABORTED",
    },
  );
});

test("a bad URL is refused before anything is sent", async (t) => {
  const transport = transportFor(t);
  await assert.rejects(
    transport.exchange({ url: "ftp://x/y", options: options() }, () => 1),
    { code: "SB_TRANSPORT_BAD_URL" },
  );
  await assert.rejects(
    transport.exchange({ url: "http+unix:///no/socket/here", options: options() }, () => 1),
    {
      code: "SB_TRANSPORT_BAD_URL",
    },
  );
});
