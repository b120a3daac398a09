import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { Runtime } from "../src/runtime.js";
import { UNREACHABLE_TEST_ENDPOINT, writeModuleYaml } from "./support/module-yaml.js";
import { tempDir } from "./support/temp-dir.js";

async function startIngress(t: TestContext, limits: string): Promise<{ runtime: Runtime; port: number }> {
  const dir = tempDir(t);
  const runtime = await Runtime.start({
    modules: [
      writeModuleYaml(
        dir,
        UNREACHABLE_TEST_ENDPOINT,
        `kind: io.statefun.playground.v1/ingress\nspec: { port: 0, ${limits} }`,
      ),
    ],
    dataDir: join(dir, "data"),
  });
  t.after(() => runtime.stop(10));
  return { runtime, port: Number(new URL((runtime.ingresses[0] as { url: string }).url).port) };
}

/** A client socket whose end is recorded: what it received and when it was closed. */
async function open(
  t: TestContext,
  port: number,
): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(port, "127.0.0.1");
  t.after(() => socket.destroy());
  let received = "";
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString();
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, received: () => received, closed };
}

/** Resolves true when `closed` settles within `ms`, false otherwise. */
async function closesWithin(closed: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([closed.then(() => true), late]).finally(() => clearTimeout(timer));
}

// The timeouts bound a test that would otherwise wait on a connection forever.
test("a client dripping its request body or headers is cut off after requestTimeout / headersTimeout", {
  timeout: 60_000,
}, async (t) => {
  const { port } = await startIngress(t, "requestTimeout: 1s, headersTimeout: 1s");
  const body = await open(t, port);
  body.socket.write("POST /test/counter/a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n");
  const headers = await open(t, port);
  headers.socket.write("POST /test/counter/b HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  // One byte every 200 ms: never idle, never done; bounded by the test's own wait.
  const drip = setInterval(() => {
    if (!body.socket.destroyed) body.socket.write("x");
    if (!headers.socket.destroyed) headers.socket.write("X-Slow: 1\r\n");
  }, 200);
  t.after(() => clearInterval(drip));
  assert.ok(await closesWithin(body.closed, 10_000), "the body dripper is still connected after 10 s");
  assert.ok(await closesWithin(headers.closed, 10_000), "the header dripper is still connected after 10 s");
  assert.match(body.received(), /^HTTP\/1\.1 408/, "the body dripper is told why");
});

test("connections beyond maxConnections are closed at once; the ones held keep working", {
  timeout: 60_000,
}, async (t) => {
  const { port } = await startIngress(t, "maxConnections: 2");
  const first = await open(t, port);
  const second = await open(t, port);
  const third = await open(t, port);
  assert.ok(await closesWithin(third.closed, 5000), "the third connection is closed");
  assert.equal(third.received(), "");
  first.socket.write("POST /test/counter/a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n\r\nx");
  for (let i = 0; i < 100 && !first.received().includes("\r\n\r\n"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.match(first.received(), /^HTTP\/1\.1 202/);
  assert.equal(second.socket.destroyed, false);
});

test("a client that connected and sent nothing does not hold a stop", { timeout: 60_000 }, async (t) => {
  const { runtime, port } = await startIngress(t, "headersTimeout: 30s");
  const silent = await open(t, port);
  let stopped = false;
  const stopping = runtime.stop(10).then(() => {
    stopped = true;
  });
  assert.ok(await closesWithin(silent.closed, 10_000), "the silent connection is closed");
  await stopping;
  assert.equal(stopped, true);
});

test("a listener spec with a bad limit is refused with the setting named", async (t) => {
  const dir = tempDir(t);
  await assert.rejects(
    Runtime.start({
      modules: [
        writeModuleYaml(
          dir,
          "kind: io.statefun.playground.v1/ingress\nspec: { port: 0, requestTimeout: soon }",
        ),
      ],
      dataDir: join(dir, "data"),
    }),
    /requestTimeout/,
  );
});
