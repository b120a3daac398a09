import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type TestContext, test } from "node:test";
import { ClientPool } from "../src/transport/client-pool.js";

/** A loopback server that answers each request with the remote port of its connection. */
async function server(
  t: TestContext,
  delayMs = 0,
): Promise<{ origin: string; server: Server; seen: string[] }> {
  const seen: string[] = [];
  const srv = createServer((request, response) => {
    seen.push(request.url ?? "");
    setTimeout(() => response.end(String(request.socket.remotePort)), delayMs);
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    srv.closeAllConnections();
    srv.close();
  });
  return { origin: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, server: srv, seen };
}

async function get(pool: ClientPool, path: string): Promise<string> {
  const response = await pool.request({ path, method: "GET" });
  return response.body.text();
}

test("never opens more connections than its limit; requests beyond it run in arrival order", async (t) => {
  const { origin, seen } = await server(t, 20);
  const pool = new ClientPool(origin, { connections: 2 });
  t.after(() => pool.destroy());
  const ports = await Promise.all(Array.from({ length: 6 }, (_, index) => get(pool, `/${index}`)));
  assert.equal(new Set(ports).size, 2);
  assert.deepEqual(seen, ["/0", "/1", "/2", "/3", "/4", "/5"]);
});

test("reuses the most recently freed connection", async (t) => {
  const { origin } = await server(t);
  const pool = new ClientPool(origin, { connections: 8 });
  t.after(() => pool.destroy());
  const first = await get(pool, "/a");
  const second = await get(pool, "/b");
  assert.equal(second, first);
  assert.deepEqual(pool.stats, { connected: 1, free: 1 });
});

test("a connection older than clientTtl is retired when next picked", async (t) => {
  const { origin } = await server(t);
  const pool = new ClientPool(origin, { connections: 4, clientTtl: 50 });
  t.after(() => pool.destroy());
  const first = await get(pool, "/a");
  assert.equal(await get(pool, "/b"), first);
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.notEqual(await get(pool, "/c"), first);
});

test("requests waiting for a connection get a new one when a connection fails to connect", async (t) => {
  const { origin, server: srv } = await server(t);
  srv.close();
  srv.closeAllConnections();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const pool = new ClientPool(origin, { connections: 1 });
  t.after(() => pool.destroy());
  // Both fail (nothing listens), and the second is not left waiting forever behind the first.
  const results = await Promise.allSettled([get(pool, "/1"), get(pool, "/2")]);
  assert.deepEqual(
    results.map((r) => r.status),
    ["rejected", "rejected"],
  );
});

test("destroy fails the requests still waiting; close lets running ones finish", async (t) => {
  const { origin } = await server(t, 30);
  const pool = new ClientPool(origin, { connections: 1 });
  const running = get(pool, "/running");
  const waiting = get(pool, "/waiting");
  const closed = pool.close();
  assert.equal(await running, await waiting);
  await closed;
  await assert.rejects(get(pool, "/late"), /closed/i);

  const other = new ClientPool(origin, { connections: 1 });
  const inFlight = get(other, "/1");
  const queued = get(other, "/2");
  await other.destroy();
  await assert.rejects(queued, /destroyed/i);
  await assert.rejects(inFlight);
});
