/**
 * The worker path (docs/host.md, "Which thread serves a web request"): on a Node that can
 * share a port (`reusePort`), the workers of the pool serving a listener's functions listen
 * themselves and a request never crosses to the main thread. Skipped where Node cannot.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { reusePortSupported, WEB_IN_WORKERS_ENV } from "../src/host/reuse-port.js";
import { Runtime } from "../src/runtime.js";
import { upstream } from "./support/http-server.js";
import { metricValue, scrape } from "./support/metrics-text.js";
import { ALLOW_LOOPBACK, moduleDoc, startHost } from "./support/start-host.js";
import { tempDir } from "./support/temp-dir.js";
import { until } from "./support/until.js";

const canShare = (await reusePortSupported()) && process.env[WEB_IN_WORKERS_ENV] === undefined;
const skip = canShare ? false : "this Node cannot share a listening port (reusePort), or the path is forced";

test("a web request is served inside a worker: the main thread hops none", { skip }, async (t) => {
  const echo = await upstream(t, (_request, response) => {
    response.writeHead(200, { "content-type": "application/json" });
    response.end('{"up":true}');
  });
  const { url, runtime } = await startHost(t, [moduleDoc([ALLOW_LOOPBACK])]);
  const listener = runtime.host.listeners[0];
  assert.equal(listener?.path, "workers");
  for (let index = 0; index < 5; index++) {
    const response = await fetch(`${url}/echo-text`, { method: "POST", body: `n${index}` });
    assert.equal(await response.text(), `got n${index}`);
  }
  // A host call (http.invoke) still reaches the main thread; the request itself does not.
  const called = await fetch(`${url}/fetch-json?url=${encodeURIComponent(`${echo}/x`)}`);
  assert.deepEqual(((await called.json()) as { body: unknown }).body, { up: true });
  const streamed = await fetch(`${url}/chunks`);
  assert.equal(await streamed.text(), "part 0\npart 1\npart 2\n");
  assert.equal(listener?.hops, 0);
});

test(`${WEB_IN_WORKERS_ENV}=0 keeps the main-thread path, which hops every request`, async (t) => {
  process.env[WEB_IN_WORKERS_ENV] = "0";
  let started: Awaited<ReturnType<typeof startHost>>;
  try {
    started = await startHost(t, [moduleDoc()]);
  } finally {
    delete process.env[WEB_IN_WORKERS_ENV];
  }
  const { url, runtime } = started;
  const response = await fetch(`${url}/echo-text`, { method: "POST", body: "x" });
  assert.equal(await response.text(), "got x");
  assert.equal(runtime.host.listeners[0]?.path, "main");
  assert.equal(runtime.host.listeners[0]?.hops, 1);
});

test("requests served in a worker are counted in /metrics by route and status", { skip }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    [moduleDoc(), "kind: io.switchboard.functions.v1/web\nspec: { port: 0 }\n"].join("\n---\n"),
  );
  const runtime = await Runtime.start({ modules: [file], dataDir: join(dir, "data"), adminPort: 0 });
  t.after(() => runtime.stop());
  assert.equal(runtime.host.listeners[0]?.path, "workers");
  const url = `${runtime.host.listeners[0]?.url}/functions`;
  for (const body of ["a", "b"]) await (await fetch(`${url}/echo-text`, { method: "POST", body })).text();
  await (await fetch(`${url}/order`, { method: "POST", body: "not json" })).text();
  await (await fetch(`${url}/no-such-function`)).text();
  const count = "switchboard_web_request_duration_seconds_count";
  const admin = runtime.ops.adminUrl as string;
  await until("the worker's figures in /metrics", async () => {
    const samples = await scrape(admin);
    try {
      return (
        metricValue(samples, count, { route: "echo-text", status: "2xx" }) === 2 &&
        metricValue(samples, count, { route: "order", status: "4xx" }) === 1 &&
        metricValue(samples, count, { route: "(unknown)", status: "4xx" }) === 1
      );
    } catch {
      return false;
    }
  });
  assert.equal(runtime.host.listeners[0]?.hops, 0);
});

test("a replaced worker listens again: after a stuck function, requests are served in workers again", {
  skip,
}, async (t) => {
  const { url, runtime } = await startHost(t, [moduleDoc(["limits: { timeout: 300ms }"])]);
  const listener = runtime.host.listeners[0];
  await fetch(`${url}/loops`).catch(() => undefined);
  // While no worker listens the main thread holds the port; once the replacement listens,
  // a run of requests crosses no thread again.
  await until(
    "a run of requests served without a hop",
    async () => {
      const before = listener?.hops ?? 0;
      for (let index = 0; index < 5; index++) {
        const response = await fetch(`${url}/echo-text`, { method: "POST", body: "x" }).catch(
          () => undefined,
        );
        if (response?.status !== 200) return false;
        await response.text();
      }
      return listener?.hops === before;
    },
    { timeoutMs: 20_000, intervalMs: 100 },
  );
  assert.equal(listener?.path, "workers");
});

test("a listener whose functions live in two pools stays on the main-thread path", { skip }, async (t) => {
  const { url, runtime } = await startHost(t, [
    moduleDoc(['overrides: { echo-text: { env: { SPLIT: "yes" } } }']),
  ]);
  const response = await fetch(`${url}/echo-text`, { method: "POST", body: "x" });
  assert.equal(await response.text(), "got x");
  assert.equal(runtime.host.listeners[0]?.path, "main");
});
