import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { AdminErrors } from "../src/errors/admin-errors.js";
import { isError } from "../src/errors/index.js";
import { Runtime } from "../src/runtime.js";
import { spawnCli } from "./support/cli-child.js";
import { UNREACHABLE_TEST_ENDPOINT, writeModuleYaml } from "./support/module-yaml.js";
import { encodeInt, INT } from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";

const TOKEN = "s3cret-admin-token-for-tests";

/** A runtime with an admin port and one dead letter, whose drop is the action under test. */
async function startWithDeadLetter(t: TestContext, adminToken?: string) {
  const dir = tempDir(t);
  const runtime = await Runtime.start({
    modules: [writeModuleYaml(dir, UNREACHABLE_TEST_ENDPOINT)],
    dataDir: join(dir, "data"),
    adminPort: 0,
    ...(adminToken ? { adminToken } : {}),
  });
  t.after(() => runtime.stop());
  const { store } = runtime;
  const message = {
    seq: 1,
    acceptedAt: Date.now(),
    target: { fn: "test/counter", id: "a" },
    argument: { typename: INT, hasValue: true, value: encodeInt(1) },
  };
  const id = await store.commits.submit(() =>
    store.deadLetters.insert(message, { code: "SB_TEST", message: "poison" }, Date.now()),
  );
  const admin = runtime.ops.adminUrl as string;
  return { runtime, admin, port: Number(new URL(admin).port), id };
}

/** A raw request, so Host and Origin can be whatever an attacker's page would send. */
function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; code: string | undefined; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: "127.0.0.1", port, method, path, headers, agent: false },
      (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => {
          text += chunk.toString();
        });
        response.on("end", () => {
          let code: string | undefined;
          try {
            code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
          } catch {
            code = undefined;
          }
          resolve({ status: response.statusCode ?? 0, code, headers: response.headers });
        });
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

test("admin actions from another site's page, a rebound host name or a form body are refused and change nothing", async (t) => {
  const { runtime, port, id } = await startWithDeadLetter(t);
  const drop = `/api/dead-letters/${id}`;
  const cases: Array<[string, Record<string, string>, string | undefined, number, string]> = [
    ["foreign Origin", { origin: "http://evil.example" }, undefined, 403, "SB_ADMIN_FOREIGN_ORIGIN"],
    ["null Origin", { origin: "null" }, undefined, 403, "SB_ADMIN_FOREIGN_ORIGIN"],
    ["cross-site fetch", { "sec-fetch-site": "cross-site" }, undefined, 403, "SB_ADMIN_FOREIGN_ORIGIN"],
    [
      "DNS rebinding",
      { host: `evil.example:${port}`, origin: `http://evil.example:${port}` },
      undefined,
      421,
      "SB_ADMIN_BAD_HOST",
    ],
    ["text/plain body", { "content-type": "text/plain" }, "x", 415, "SB_ADMIN_UNSUPPORTED_BODY"],
    [
      "form body",
      { "content-type": "application/x-www-form-urlencoded" },
      "a=1",
      415,
      "SB_ADMIN_UNSUPPORTED_BODY",
    ],
  ];
  for (const [what, headers, body, status, code] of cases) {
    const answer = await send(port, "DELETE", drop, headers, body).catch((error: Error) => {
      throw new Error(`${what}: ${error.message}`);
    });
    assert.deepEqual([answer.status, answer.code], [status, code], what);
  }
  assert.equal(runtime.store.deadLetters.count(), 1, "the dead letter is still there");

  const rebound = await send(port, "GET", "/api/overview", { host: `attacker.example:${port}` });
  assert.equal(rebound.code, "SB_ADMIN_BAD_HOST", "a rebound page cannot read the API either");
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
    assert.equal((await send(port, "GET", "/api/overview", { host })).status, 200, host);
  }

  // What the live page sends: a same-origin POST.
  const sameOrigin = await send(port, "DELETE", drop, {
    origin: `http://127.0.0.1:${port}`,
    "sec-fetch-site": "same-origin",
  });
  assert.equal(sameOrigin.status, 200);
  assert.equal(runtime.store.deadLetters.count(), 0);
});

test("with an admin token, actions need it (checked in constant time); reads and health do not", async (t) => {
  const { runtime, port, id } = await startWithDeadLetter(t, TOKEN);
  const drop = `/api/dead-letters/${id}`;
  const missing = await send(port, "DELETE", drop);
  assert.deepEqual([missing.status, missing.code], [401, "SB_ADMIN_UNAUTHORIZED"]);
  assert.match(String(missing.headers["www-authenticate"]), /^Bearer/);
  for (const authorization of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, TOKEN, "Basic abc"]) {
    const wrong = await send(port, "DELETE", drop, { authorization });
    assert.equal(wrong.code, "SB_ADMIN_UNAUTHORIZED", authorization);
  }
  assert.equal(runtime.store.deadLetters.count(), 1);
  assert.equal((await send(port, "GET", "/api/overview")).status, 200);
  assert.equal((await send(port, "GET", "/healthz")).status, 200);
  const allowed = await send(port, "DELETE", drop, { authorization: `Bearer ${TOKEN}` });
  assert.equal(allowed.status, 200);
  assert.equal(runtime.store.deadLetters.count(), 0);
});

test("an admin port beyond loopback without a token refuses to start before anything opens", async (t) => {
  const dir = tempDir(t);
  const dataDir = join(dir, "data");
  await assert.rejects(
    Runtime.start({
      modules: [writeModuleYaml(dir, UNREACHABLE_TEST_ENDPOINT)],
      dataDir,
      adminPort: 0,
      adminHost: "0.0.0.0",
    }),
    (error: unknown) => isError(error, AdminErrors.TOKEN_REQUIRED) && /--admin-token/.test(error.message),
  );
  const cli = spawnCli(t, [
    "run",
    writeModuleYaml(dir, UNREACHABLE_TEST_ENDPOINT),
    "--data-dir",
    dataDir,
    "--admin-host",
    "0.0.0.0",
    "--admin-port",
    "0",
  ]);
  assert.equal(await cli.exitWithin(30_000), 1);
  assert.match(cli.stderr(), /beyond loopback, with no admin token/);
});

test("switchboard run takes the admin token from SWITCHBOARD_ADMIN_TOKEN", async (t) => {
  const dir = tempDir(t);
  const cli = spawnCli(
    t,
    [
      "run",
      writeModuleYaml(dir, UNREACHABLE_TEST_ENDPOINT),
      "--data-dir",
      join(dir, "data"),
      "--admin-port",
      "0",
    ],
    { SWITCHBOARD_ADMIN_TOKEN: TOKEN, SWITCHBOARD_LOG_LEVEL: "info", SWITCHBOARD_LOG_FORMAT: "json" },
  );
  const [, admin] = await cli.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/, "the admin URL in the log");
  const port = Number(new URL(admin as string).port);
  assert.equal((await send(port, "POST", "/api/dead-letters/1/reinject")).code, "SB_ADMIN_UNAUTHORIZED");
  const authorised = await send(port, "POST", "/api/dead-letters/1/reinject", {
    authorization: `Bearer ${TOKEN}`,
  });
  assert.equal(authorised.code, "SB_ADMIN_UNKNOWN_DEAD_LETTER", "past the token check");
  cli.process.kill("SIGTERM");
  assert.equal(await cli.exitWithin(30_000), 0);
  assert.doesNotMatch(cli.stdout() + cli.stderr(), new RegExp(TOKEN), "the token is never printed");
});
