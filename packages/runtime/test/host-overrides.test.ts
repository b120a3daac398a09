import assert from "node:assert/strict";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { STRING } from "@switchboard/sdk";
import { Runtime } from "../src/runtime.js";
import { upstream } from "./support/http-server.js";
import { writeModuleYaml } from "./support/module-yaml.js";
import { encodeInt, INT } from "./support/protocol-function.js";
import { moduleDoc, recordingLogger, startHost } from "./support/start-host.js";
import { tempDir } from "./support/temp-dir.js";

const MODULE = new URL("./support/host/override-module.ts", import.meta.url).pathname;
const SECRET = "sk-per-function-7c1e93";

const doc = (spec: readonly string[]) => moduleDoc(spec, MODULE);

async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

async function startFails(t: TestContext, spec: readonly string[]): Promise<Error & { code?: string }> {
  const dir = tempDir(t);
  const file = writeModuleYaml(dir, doc(spec));
  try {
    const runtime = await Runtime.start({ modules: [file], dataDir: join(dir, "data") });
    await runtime.stop();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("the runtime started");
}

test("a web function's own shorter timeout fails it with SB_HOST_TIMEOUT while its twin runs longer", async (t) => {
  const { runtime, url } = await startHost(t, [
    doc(["limits: { timeout: 30s }", "overrides: { slow: { limits: { timeout: 300ms } } }"]),
  ]);
  const [limited, unlimited] = await Promise.all([
    fetch(`${url}/slow`, { method: "POST", body: "1500" }),
    fetch(`${url}/slow-too`, { method: "POST", body: "1500" }),
  ]);
  assert.equal(limited.status, 504);
  const error = await errorOf(limited);
  assert.equal(error.code, "SB_HOST_TIMEOUT");
  assert.match(error.message, /overrides\.slow\.limits\.timeout \(300 ms\)/);
  assert.equal(unlimited.status, 200);
  assert.equal(await unlimited.text(), "done");
  assert.equal(runtime.host.modules.length, 1, "a timeout alone needs no pool of its own");
});

test("a function with its own env sees its variable on a pool of its own; its twin does not", async (t) => {
  process.env.SB_TEST_EMBED_MODEL = "text-embedding-3-small";
  t.after(() => delete process.env.SB_TEST_EMBED_MODEL);
  const { runtime, url } = await startHost(t, [
    doc([
      "env: { REGION: eu-west-1 }",
      "overrides:",
      "  env:",
      "    env: { MODEL: { fromEnv: SB_TEST_EMBED_MODEL }, REGION: us-east-1 }",
      "    workers: 2",
    ]),
  ]);
  assert.deepEqual(await (await fetch(`${url}/env`)).json(), {
    REGION: "us-east-1",
    MODEL: "text-embedding-3-small",
  });
  assert.deepEqual(await (await fetch(`${url}/env-too`)).json(), { REGION: "eu-west-1" });
  const pools = runtime.host.modules.map((module) => [module.pool.override ?? "module", module.pool.size]);
  assert.deepEqual(pools, [
    ["module", 1],
    ["env", 2],
  ]);
});

test("a function over its own smaller memory limit fails with SB_HOST_OUT_OF_MEMORY; the module's pool keeps serving", async (t) => {
  const { url } = await startHost(t, [
    doc(["limits: { memory: 1024, timeout: 60s }", "overrides: { hogs: { limits: { memory: 64 } } }"]),
  ]);
  const hog = await fetch(`${url}/hogs`);
  assert.equal(hog.status, 500);
  const error = await errorOf(hog);
  assert.equal(error.code, "SB_HOST_OUT_OF_MEMORY");
  assert.match(error.message, /overrides\.hogs\.limits\.memory 64 MB/);
  // Another pool: nothing there was lost or has to wait for the replacement.
  const echo = await fetch(`${url}/echo`, { method: "POST", body: "fine" });
  assert.equal(await echo.text(), "fine");
});

test("a function's own outbound.allow refuses a host the module allows; its twin reaches it", async (t) => {
  const base = await upstream(t, (_request, response) => response.end("hello"));
  const { url } = await startHost(t, [
    doc([
      `outbound: { allow: ["${base}"] }`,
      `overrides: { fetch: { outbound: { allow: ["https://api.openai.com"] } } }`,
    ]),
  ]);
  const target = `?url=${encodeURIComponent(`${base}/x`)}`;
  const refused = await fetch(`${url}/fetch${target}`);
  assert.equal(refused.status, 502);
  const body = (await refused.json()) as { code: string; message: string };
  assert.equal(body.code, "SB_HOST_OUTBOUND_REFUSED");
  assert.match(body.message, /outbound\.allow \(https:\/\/api\.openai\.com\)/);
  const allowed = await fetch(`${url}/fetch-too${target}`);
  assert.deepEqual(await allowed.json(), { status: 200, body: "hello" });
});

test("per-function secrets and upstreams reach only that function and are scrubbed from logs and bodies", async (t) => {
  const base = await upstream(t, (request, response) =>
    response.end(`auth=${request.headers.authorization}`),
  );
  process.env.SB_TEST_FN_SECRET = SECRET;
  t.after(() => delete process.env.SB_TEST_FN_SECRET);
  const logger = recordingLogger();
  const secretUpstream = `{ secrets: { KEY: { fromEnv: SB_TEST_FN_SECRET } }, upstreams: { echo: { url: "${base}", headers: { authorization: { secret: KEY, prefix: "Bearer " } } } } }`;
  const { url } = await startHost(
    t,
    [doc([`overrides: { fetch: ${secretUpstream}, leaky: ${secretUpstream} }`])],
    logger,
  );
  assert.deepEqual(await (await fetch(`${url}/fetch?upstream=1`)).json(), {
    status: 200,
    body: `auth=Bearer ${SECRET}`,
  });
  const sibling = (await (await fetch(`${url}/fetch-too?upstream=1`)).json()) as { code: string };
  assert.equal(sibling.code, "SB_HOST_UNKNOWN_UPSTREAM");
  const leaked = await fetch(`${url}/leaky`);
  assert.equal(leaked.status, 500);
  assert.doesNotMatch(await leaked.text(), new RegExp(SECRET));
  const log = logger.lines.join("\n");
  assert.match(log, /upstream said auth=Bearer \[secret\]/);
  assert.doesNotMatch(log, new RegExp(SECRET));
});

test("a missing required per-function secret is a start-up error naming the override", async (t) => {
  const error = await startFails(t, [
    "overrides: { fetch: { secrets: { KEY: { fromEnv: SB_TEST_FN_SECRET_UNSET } } } }",
  ]);
  assert.equal(error.code, "SB_HOST_MISSING_VARIABLE");
  assert.match(
    error.message,
    /module\.yaml:1:1 overrides\.fetch secret KEY needs the environment variable SB_TEST_FN_SECRET_UNSET/,
  );
});

test("an override naming no function of the module is a start-up error at the component's line", async (t) => {
  const web = await startFails(t, ["overrides: { fetchh: { limits: { timeout: 1s } } }"]);
  assert.equal(web.code, "SB_HOST_MODULE_LOAD_FAILED");
  assert.match(
    web.message,
    /module\.yaml:1:1 overrides\.fetchh names no function .* \(web functions it serves: .*fetch-too/,
  );
  const typename = await startFails(t, ["overrides: { probe/missing: { workers: 1 } }"]);
  assert.match(
    typename.message,
    /overrides\.probe\/missing names no function .*typenames it serves: probe\/seen, probe\/plain/,
  );
});

test("an override of one typename under a namespace binding gives that stateful function its env", async (t) => {
  const dir = tempDir(t);
  const file = writeModuleYaml(
    dir,
    doc([
      'functions: ["probe/*"]',
      "env: { PROBE: module }",
      "overrides: { probe/seen: { env: { PROBE: own } } }",
    ]),
  );
  const runtime = await Runtime.start({ modules: [file], dataDir: join(dir, "data") });
  t.after(() => runtime.stop());
  const argument = { typename: INT, hasValue: true, value: encodeInt(1) };
  await runtime.dispatcher.accept({ target: { fn: "probe/seen", id: "a" }, argument });
  await runtime.dispatcher.accept({ target: { fn: "probe/plain", id: "a" }, argument });
  const seen = (fn: string) => {
    const bytes = runtime.store.state.read({ fn, id: "a" }, Date.now()).get("seen")?.value;
    return bytes ? STRING.deserialize(bytes) : undefined;
  };
  const deadline = Date.now() + 20_000;
  while ((seen("probe/seen") === undefined || seen("probe/plain") === undefined) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(seen("probe/seen"), "own");
  assert.equal(seen("probe/plain"), "module");
});
