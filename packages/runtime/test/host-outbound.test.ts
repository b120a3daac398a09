import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { Runtime } from "../src/runtime.js";
import { upstream } from "./support/http-server.js";
import { ALLOW_LOOPBACK, moduleDoc, recordingLogger, startHost } from "./support/start-host.js";
import { tempDir } from "./support/temp-dir.js";

const SECRET = "sk-test-4f9d2c7a1b";

test("http.invoke reaches an upstream through the host and non-2xx comes back as a response", async (t) => {
  const base = await upstream(t, (request, response) => {
    const status = request.url === "/missing" ? 404 : 200;
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify({ path: request.url }));
  });
  const { url } = await startHost(t, [moduleDoc([ALLOW_LOOPBACK])]);
  const ok = await fetch(`${url}/fetch-json?url=${encodeURIComponent(`${base}/hello`)}`);
  assert.deepEqual(await ok.json(), { status: 200, body: { path: "/hello" }, type: "application/json" });
  const missing = await fetch(`${url}/fetch-json?url=${encodeURIComponent(`${base}/missing`)}`);
  assert.deepEqual(await missing.json(), {
    status: 404,
    body: { path: "/missing" },
    type: "application/json",
  });
});

test("a function can have several outbound calls in flight at once", async (t) => {
  let waiting: ServerResponse | undefined;
  const base = await upstream(t, (_request, response) => {
    // The first call is answered only once the second has arrived: serial calls would hang.
    if (!waiting) {
      waiting = response;
      return;
    }
    waiting.writeHead(200).end("a");
    response.writeHead(201).end("b");
  });
  const { url } = await startHost(t, [moduleDoc([ALLOW_LOOPBACK])]);
  const response = await fetch(`${url}/parallel?url=${encodeURIComponent(base)}`);
  assert.equal(response.status, 200);
  assert.deepEqual(((await response.json()) as { statuses: number[] }).statuses.sort(), [200, 201]);
});

test("a host outside outbound.allow is refused with an error naming the rule", async (t) => {
  const base = await upstream(t, (_request, response) => response.end("{}"));
  const port = new URL(base).port;
  const { url } = await startHost(t, [moduleDoc([`outbound: { allow: ["http://127.0.0.1:${port}"] }`])]);
  const allowed = await fetch(`${url}/try-fetch?url=${encodeURIComponent(base)}`);
  assert.equal(allowed.status, 200);
  const refused = await fetch(`${url}/try-fetch?url=${encodeURIComponent("http://localhost:1/")}`);
  assert.equal(refused.status, 502);
  const body = (await refused.json()) as { code: string; message: string };
  assert.equal(body.code, "SB_HOST_OUTBOUND_REFUSED");
  assert.match(body.message, /outbound\.allow/);
});

test("link-local and cloud metadata addresses are refused by default", async (t) => {
  const { url } = await startHost(t, [moduleDoc()]);
  for (const [target, rule] of [
    ["http://169.254.169.254/latest/meta-data/", "cloud-metadata"],
    ["http://169.254.10.1/", "link-local"],
    ["http://[fe80::1]/", "link-local"],
    ["http://metadata.google.internal/computeMetadata/v1/", "cloud-metadata"],
    ["http://[::ffff:169.254.1.1]/", "link-local"],
  ] as const) {
    const response = await fetch(`${url}/try-fetch?url=${encodeURIComponent(target)}`);
    const body = (await response.json()) as { code: string; message: string };
    assert.equal(body.code, "SB_HOST_OUTBOUND_REFUSED", target);
    assert.match(body.message, new RegExp(rule), target);
  }
});

test("without outbound.allow a function cannot reach the admin API in any spelling of loopback", async (t) => {
  let adminRequests = 0;
  const admin = await upstream(t, (_request, response) => {
    adminRequests++;
    response.end("{}");
  });
  const port = new URL(admin).port;
  const { url } = await startHost(t, [moduleDoc()]);
  for (const host of [
    "127.0.0.1",
    "localhost",
    "2130706433",
    "0177.0.0.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "0.0.0.0",
  ]) {
    const target = `http://${host}:${port}/api/dead-letters/1`;
    const response = await fetch(`${url}/try-fetch?url=${encodeURIComponent(target)}`);
    const body = (await response.json()) as { code: string; message: string };
    assert.equal(body.code, "SB_HOST_OUTBOUND_REFUSED", target);
    assert.match(body.message, /rule loopback/, target);
  }
  assert.equal(adminRequests, 0, "nothing reached the listener");
});

test("a function reaches a loopback service that outbound.allow names", async (t) => {
  const base = await upstream(t, (_request, response) => response.end("{}"));
  const { url } = await startHost(t, [moduleDoc([`outbound: { allow: ["${base}"] }`])]);
  const response = await fetch(`${url}/try-fetch?url=${encodeURIComponent(`${base}/x`)}`);
  assert.deepEqual(await response.json(), { status: 200 });
});

test("functions see their env variables only; secrets go to upstream headers host-side", async (t) => {
  let seenAuthorization: string | undefined;
  const base = await upstream(t, (request, response) => {
    seenAuthorization = request.headers.authorization;
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ authorization: request.headers.authorization, path: request.url }));
  });
  process.env.SB_TEST_API_KEY = SECRET;
  t.after(() => delete process.env.SB_TEST_API_KEY);
  const logger = recordingLogger();
  const { url } = await startHost(
    t,
    [
      moduleDoc([
        "env: { GREETING: hello, FROM_ENV: { fromEnv: SB_TEST_MISSING, required: false } }",
        "secrets: { API_KEY: { fromEnv: SB_TEST_API_KEY } }",
        `upstreams: { echo: { url: "${base}", headers: { authorization: { secret: API_KEY, prefix: "Bearer " } } } }`,
      ]),
    ],
    logger,
  );
  const env = (await (await fetch(`${url}/env`)).json()) as Record<string, string>;
  assert.deepEqual(env, { GREETING: "hello" });

  const echoed = (await (await fetch(`${url}/upstream-echo`)).json()) as { path: string };
  assert.equal(seenAuthorization, `Bearer ${SECRET}`);
  assert.equal(echoed.path, "/headers?x=1");

  // A function that throws with the upstream's answer (which holds the secret) leaks nothing.
  const leaky = await fetch(`${url}/leaky`);
  assert.equal(leaky.status, 500);
  assert.doesNotMatch(await leaky.text(), new RegExp(SECRET));
  const log = logger.lines.join("\n");
  assert.match(log, /\[secret\]/, "the failure was logged, redacted");
  assert.doesNotMatch(log, new RegExp(SECRET));
});

test("a secret in a function error's name, code or causes never reaches the host log", async (t) => {
  const base = await upstream(t, (request, response) => {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ authorization: request.headers.authorization }));
  });
  process.env.SB_TEST_API_KEY = SECRET;
  t.after(() => delete process.env.SB_TEST_API_KEY);
  const logger = recordingLogger();
  const { url } = await startHost(
    t,
    [
      moduleDoc([
        "secrets: { API_KEY: { fromEnv: SB_TEST_API_KEY } }",
        `upstreams: { echo: { url: "${base}", headers: { authorization: { secret: API_KEY } } } }`,
      ]),
    ],
    logger,
  );
  const failed = await fetch(`${url}/leaky-fields`);
  assert.equal(failed.status, 500);
  assert.doesNotMatch(await failed.text(), new RegExp(SECRET));
  const log = logger.lines.join("\n");
  assert.match(log, /root cause/, "the causes were logged");
  assert.match(log, /a string cause: .*\[secret\]/);
  assert.doesNotMatch(log, new RegExp(SECRET));
});

test("a missing required variable or secret is a start-up error naming it", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "module.yaml");
  writeFileSync(file, moduleDoc(["secrets: { TOKEN: { fromEnv: SB_TEST_DEFINITELY_UNSET } }"]));
  await assert.rejects(
    Runtime.start({ modules: [file], dataDir: join(dir, "data") }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, "SB_HOST_MISSING_VARIABLE");
      assert.match(error.message, /SB_TEST_DEFINITELY_UNSET/);
      return true;
    },
  );
});

test("a streamed Data can be relayed once; a second use fails with SB_HOST_DATA_CONSUMED", async (t) => {
  const base = await upstream(t, (request, response) => {
    request.resume();
    request.on("end", () => response.end("ok"));
  });
  const { url } = await startHost(t, [moduleDoc([ALLOW_LOOPBACK])]);
  const response = await fetch(`${url}/twice?url=${encodeURIComponent(base)}`, {
    method: "POST",
    body: "payload",
  });
  assert.equal(await response.text(), "SB_HOST_DATA_CONSUMED");
});

test("a per-call timeout ends a slow call; the invocation's deadline ends it too and aborts the upstream", async (t) => {
  const closed: Array<Promise<unknown>> = [];
  const base = await upstream(t, (request, response) => {
    // Never answers; records when the host gives up on the connection.
    closed.push(new Promise((resolve) => request.socket.once("close", resolve)));
    void response;
  });
  const { url } = await startHost(t, [moduleDoc(["limits: { timeout: 600ms }", ALLOW_LOOPBACK])]);
  const perCall = await fetch(`${url}/timed-fetch?timeout=150&url=${encodeURIComponent(base)}`);
  assert.match(
    ((await perCall.json()) as { code: string }).code,
    /^SB_TRANSPORT_(DEADLINE_EXCEEDED|READ_TIMEOUT)$/,
  );
  const bounded = await fetch(`${url}/timed-fetch?url=${encodeURIComponent(base)}`);
  assert.equal(bounded.status, 504);
  assert.equal(((await bounded.json()) as { error: { code: string } }).error.code, "SB_HOST_TIMEOUT");
  await Promise.race([
    Promise.all(closed),
    new Promise((_, reject) => setTimeout(() => reject(new Error("an upstream call was left open")), 15_000)),
  ]);
});

test("a function cannot steer an upstream's secret headers to another origin", async (t) => {
  let calls = 0;
  const base = await upstream(t, (_request, response) => {
    calls++;
    response.end("{}");
  });
  process.env.SB_TEST_API_KEY = SECRET;
  t.after(() => delete process.env.SB_TEST_API_KEY);
  const { url } = await startHost(t, [
    moduleDoc([
      "secrets: { API_KEY: { fromEnv: SB_TEST_API_KEY } }",
      `upstreams: { echo: { url: "${base}", headers: { authorization: { secret: API_KEY } } } }`,
    ]),
  ]);
  const attempt = async (path: string) =>
    (await (await fetch(`${url}/upstream-path?path=${encodeURIComponent(path)}`)).json()) as {
      code?: string;
      status?: number;
    };
  assert.deepEqual(await attempt("/ok"), { status: 200 });
  assert.deepEqual(await attempt("@evil.example/"), { code: "SB_HOST_OUTBOUND_BAD_URL" });
  assert.deepEqual(await attempt("https://evil.example/"), { code: "SB_HOST_OUTBOUND_BAD_URL" });
  assert.deepEqual(await attempt(".evil.example/"), { code: "SB_HOST_OUTBOUND_BAD_URL" });
  assert.deepEqual(
    await attempt("//evil.example/x"),
    { status: 200 },
    "a path, on the upstream's own origin",
  );
  assert.equal(calls, 2);
});

test("a caller that disconnects while its function waits on an upstream aborts that call", async (t) => {
  let closed: Promise<unknown> | undefined;
  let arrived: () => void = () => {};
  const reached = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const base = await upstream(t, (request) => {
    closed = new Promise((resolve) => request.socket.once("close", resolve));
    arrived();
  });
  const { url } = await startHost(t, [moduleDoc(["limits: { timeout: 60s }", ALLOW_LOOPBACK])]);
  const controller = new AbortController();
  const call = fetch(`${url}/timed-fetch?url=${encodeURIComponent(base)}`, {
    signal: controller.signal,
  }).catch(() => undefined);
  await reached;
  controller.abort();
  await call;
  await Promise.race([
    closed,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error("the upstream call was left open")), 15_000),
    ),
  ]);
});

test("a host call whose arguments hold a callback fails alone; the worker and its other invocations carry on", async (t) => {
  const base = await upstream(t, (_request, response) => response.end("ok"));
  const { url } = await startHost(t, [moduleDoc([ALLOW_LOOPBACK])]);
  const slow = fetch(`${url}/slow`, { method: "POST", body: "300" });
  const bad = await fetch(`${url}/fetch-with-callback?url=${encodeURIComponent(`${base}/a`)}`);
  assert.equal(bad.status, 200);
  const outcome = (await bad.json()) as { threw: boolean; code?: string; message?: string };
  assert.equal(outcome.threw, true);
  assert.equal(outcome.code, "SB_HOST_UNSENDABLE");
  assert.match(outcome.message ?? "", /http\.invoke\(\): its arguments cannot be sent between threads/);
  const running = await slow;
  assert.equal(running.status, 200, "the invocation running beside it on the same worker finishes");
  const after = await fetch(`${url}/echo-text`, { method: "POST", body: "still here" });
  assert.equal(await after.text(), "got still here");
});
