import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { upstream } from "./support/http-server.js";
import { ALLOW_LOOPBACK, moduleDoc, startHost } from "./support/start-host.js";
import { tempDir } from "./support/temp-dir.js";

/** Writes `total` bytes in 64 KiB chunks, honouring back-pressure. */
async function sendBytes(response: ServerResponse, total: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  while (sent < total && !response.destroyed) {
    const size = Math.min(chunk.length, total - sent);
    sent += size;
    if (!response.write(size === chunk.length ? chunk : chunk.subarray(0, size))) {
      await new Promise<void>((resolve) => {
        const done = () => {
          response.off("drain", done);
          response.off("close", done);
          resolve();
        };
        response.on("drain", done);
        response.on("close", done);
      });
    }
  }
  response.end();
}

test("the pass-through proxy relays request and response bodies byte for byte, with the upstream's headers", async (t) => {
  const base = await upstream(t, (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      response.writeHead(207, { "content-type": "application/x-echo", "content-length": body.length });
      response.end(body);
    });
  });
  const { url, runtime } = await startHost(t, [moduleDoc([ALLOW_LOOPBACK])]);
  // Random bytes: a chunk relayed twice, out of order, or from a reused buffer too early
  // cannot pass for the right one, as it could with bytes all alike.
  const payload = randomBytes(3 * 1024 * 1024 + 17);
  const response = await fetch(`${url}/relay?url=${encodeURIComponent(`${base}/echo`)}`, {
    method: "POST",
    body: payload,
  });
  assert.equal(response.status, 207);
  assert.equal(response.headers.get("content-type"), "application/x-echo");
  assert.ok(Buffer.from(await response.arrayBuffer()).equals(payload));
  // A worker serving the request itself tells the host it ended by message, which may land
  // just after the client has the whole body: bounded wait, then nothing may be held.
  for (let tries = 0; tries < 50 && runtime.host.heldData > 0; tries++)
    await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(runtime.host.heldData, 0, "nothing is left behind in the host");
});

test("a client that goes away mid-relay aborts the upstream call", async (t) => {
  let upstreamClosed: Promise<unknown> | undefined;
  const base = await upstream(t, (_request, response) => {
    upstreamClosed = once(response, "close");
    response.writeHead(200, { "content-type": "application/octet-stream" });
    void sendBytes(response, 10 * 1024 * 1024 * 1024);
  });
  const { url } = await startHost(t, [moduleDoc([ALLOW_LOOPBACK])]);
  const controller = new AbortController();
  const response = await fetch(`${url}/relay?url=${encodeURIComponent(base)}`, { signal: controller.signal });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let received = 0;
  while (received < 1024 * 1024) received += (await reader.read()).value?.length ?? 0;
  controller.abort();
  await Promise.race([
    upstreamClosed,
    new Promise((_, reject) => setTimeout(() => reject(new Error("the upstream was not aborted")), 15_000)),
  ]);
});

test("1 GiB relays through the proxy in bounded memory", { timeout: 300_000 }, async (t) => {
  const total = 1024 * 1024 * 1024;
  const base = await upstream(t, (_request, response) => {
    response.writeHead(200, { "content-type": "application/octet-stream", "content-length": total });
    void sendBytes(response, total);
  });
  const dir = tempDir(t);
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    [
      moduleDoc(["limits: { timeout: 5min }", `outbound: { timeout: 5min, allow: ["http://127.0.0.1:*"] }`]),
      "kind: io.switchboard.functions.v1/web\nspec: { port: 0 }",
    ].join("\n---\n"),
  );
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      new URL("./support/host/host-child.ts", import.meta.url).pathname,
      file,
      join(dir, "data"),
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  t.after(() => child.kill());
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const { url } = JSON.parse((await lines.next()).value as string) as { url: string };
  const response = await fetch(`${url}/relay?url=${encodeURIComponent(base)}`);
  assert.equal(response.status, 200);
  let received = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) received += chunk.length;
  assert.equal(received, total);
  child.stdin.write("stop\n");
  const { maxRssBytes } = JSON.parse((await lines.next()).value as string) as { maxRssBytes: number };
  t.diagnostic(`host peak RSS while relaying 1 GiB: ${(maxRssBytes / 1024 / 1024).toFixed(0)} MB`);
  // Bounded means a few chunk windows above the idle host (Node, tsx, the runtime and worker
  // threads: 160-230 MB), nowhere near the 1 GiB relayed; measured 227-294 MB across paths and
  // Node versions, so the bound leaves room for a loaded machine's slower collections.
  assert.ok(maxRssBytes < 400 * 1024 * 1024, `peak RSS ${maxRssBytes} bytes is not bounded`);
});
