import assert from "node:assert/strict";
import { test } from "node:test";
import { createTransport } from "../src/transport/index.js";
import { serve, startServer, type TestServer } from "./support/http-server.js";
import { transportFor } from "./support/test-transport.js";
import { options } from "./support/transport-options.js";

/** Resets the TCP connection (RST, not FIN) of the first `resets` requests. */
function resettingServer(resets: number): Promise<TestServer> & { hits: () => number } {
  let hits = 0;
  const server = startServer((request, response) => {
    hits++;
    if (hits <= resets) request.socket.resetAndDestroy();
    else response.end("ok");
  });
  return Object.assign(server, { hits: () => hits });
}

test("a connection reset is a catalogued error, not retried when the policy says no", async (t) => {
  const resetting = resettingServer(Number.POSITIVE_INFINITY);
  const server = await serve(t, resetting);
  const transport = transportFor(t);
  const noRetry = { ...options().retry, retryIoErrors: false };
  await assert.rejects(
    transport.exchange(
      { url: server.url, method: "POST", body: "b", options: options({ retry: noRetry }) },
      () => 1,
    ),
    (error: { code: string; details: { cause: string } }) => {
      assert.equal(error.code, "SB_TRANSPORT_CONNECTION_RESET");
      assert.match(error.details.cause, /ECONNRESET|UND_ERR_SOCKET/);
      return true;
    },
  );
  assert.equal(resetting.hits(), 1);
});

test("connection resets are retried by the default policy", async (t) => {
  const resetting = resettingServer(2);
  const server = await serve(t, resetting);
  const transport = transportFor(t);
  const attempts = await transport.exchange(
    { url: server.url, method: "POST", body: "b", options: options() },
    (response) => response.attempts,
  );
  assert.equal(attempts, 3);
  assert.equal(resetting.hits(), 3);
  assert.equal(transport.stats()[0]?.retries, 2);
});

test("the call deadline cuts a retry loop short and reports the attempts", async (t) => {
  let hits = 0;
  const server = await serve(
    t,
    startServer((_request, response) => {
      hits++;
      response.writeHead(503).end();
    }),
  );
  const transport = transportFor(t);
  const started = performance.now();
  await assert.rejects(
    transport.exchange(
      {
        url: server.url,
        method: "POST",
        body: "b",
        options: options({
          callTimeoutMs: 300,
          retry: { ...options().retry, initialBackoffMs: 20, maxBackoffMs: 40 },
        }),
      },
      () => 1,
    ),
    (error: { code: string; message: string; details: { attempts: number; lastError: string } }) => {
      assert.equal(error.code, "SB_TRANSPORT_DEADLINE_EXCEEDED");
      // The deadline may cut the last attempt short before the server has counted it.
      assert.ok(
        error.details.attempts === hits || error.details.attempts === hits + 1,
        `every attempt that reached the server is counted (${error.details.attempts} attempts, ${hits} hits)`,
      );
      assert.ok(hits >= 3, `${hits} attempts`);
      assert.equal(error.details.lastError, "SB_TRANSPORT_HTTP_STATUS");
      assert.match(error.message, new RegExp(`\\(${error.details.attempts} attempts, last: .*HTTP 503`));
      return true;
    },
  );
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 300 + 800, `the loop ended near the deadline: ${elapsed.toFixed(0)} ms`);
  assert.equal(transport.stats()[0]?.timeouts.call, 1);
});

test("pool_ttl retires an old connection only after its request in flight completes", async (t) => {
  const server = await serve(
    t,
    startServer((request, response) => {
      if (request.url === "/slow") setTimeout(() => response.end("slow"), 300);
      else response.end("fast");
    }),
  );
  const transport = transportFor(t);
  const ttl = options({ poolTtlMs: 100 });
  const text = (path: string) =>
    transport.exchange({ url: `${server.url}${path}`, options: ttl }, (response) =>
      Buffer.from(response.body).toString(),
    );
  const slow = text("/slow");
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(await text("/fast"), "fast", "a call after the TTL gets a fresh connection at once");
  assert.equal(await slow, "slow", "the busy, expired connection finished its request");
  assert.equal(server.sockets(), 2);
});

test("closing the transport ends calls in flight and retrying at once with SB_TRANSPORT_CLOSED", async () => {
  const transport = createTransport();
  // Refused connections retried for up to a minute: only close can end them sooner.
  const retrying = transport.request({
    url: "http://127.0.0.1:1/x",
    options: options({ callTimeoutMs: 60_000 }),
  });
  const outcome = retrying.then(
    () => "answered",
    (error: { code?: string }) => error.code,
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  await transport.close();
  assert.equal(await outcome, "SB_TRANSPORT_CLOSED");
});
