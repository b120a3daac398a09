import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { Runtime } from "../src/runtime.js";
import { UNREACHABLE_TEST_ENDPOINT, writeModuleYaml } from "./support/module-yaml.js";
import { startOpsFixture } from "./support/ops-fixture.js";
import { tempDir } from "./support/temp-dir.js";

const CLI = new URL("../src/cli/main.ts", import.meta.url).pathname;

import { decodeInt } from "./support/protocol-function.js";
import { until } from "./support/until.js";

/** How the waits in this file poll. */
const POLL = { timeoutMs: 15_000 };

/** Raw UTF-8 bytes under a custom typename, as test/profile reads them. */
const NAME = "application/vnd.example/Name";

interface Json {
  [key: string]: unknown;
}

async function call(url: string, method = "GET"): Promise<{ status: number; body: Json }> {
  const response = await fetch(url, { method });
  return { status: response.status, body: (await response.json()) as Json };
}

function errorCode(body: Json): string | undefined {
  return (body.error as { code?: string } | undefined)?.code;
}

test("healthz answers while running; readyz reflects the store, the configuration and shutdown", async (t) => {
  const fx = await startOpsFixture(t);
  assert.deepEqual(await call(`${fx.admin}/healthz`), { status: 200, body: { status: "ok" } });
  const ready = await call(`${fx.admin}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.body, {
    ready: true,
    checks: { store: true, configuration: true, running: true, cache: true },
  });
  fx.runtime.ops.markStopping();
  const stopping = await call(`${fx.admin}/readyz`);
  assert.equal(stopping.status, 503);
  assert.equal(stopping.body.ready, false);
});

test("/api/functions lists endpoints with effective settings and function types with their state specs", async (t) => {
  const fx = await startOpsFixture(t);
  assert.equal(await fx.post("test/profile/alice", "Alice", NAME), 202);
  await fx.runtime.dispatcher.settled();
  const { status, body } = await call(`${fx.admin}/api/functions`);
  assert.equal(status, 200);
  const endpoints = body.endpoints as Array<Json & { transport: Json }>;
  const wildcard = endpoints.find((endpoint) => endpoint.name === "test/*");
  const broken = endpoints.find((endpoint) => endpoint.name === "test/broken");
  assert.equal(wildcard?.transport.profile, "async");
  assert.equal(wildcard?.transport.callTimeoutMs, 5000);
  assert.equal(wildcard?.transport.poolSize, 1024, "defaults are filled in");
  assert.equal(wildcard?.maxNumBatchRequests, 1000);
  assert.equal(broken?.maxNumBatchRequests, 2);
  assert.equal(broken?.transport.readTimeoutMs, 60);
  const types = body.functionTypes as Array<{ function: string; endpoint: string; states: Json[] }>;
  const profile = types.find((type) => type.function === "test/profile");
  assert.equal(profile?.endpoint, "test/*");
  assert.deepEqual(
    profile?.states.map((state) => state.name),
    ["profile", "visits"],
  );
  assert.deepEqual(body.egresses, [
    { id: "io.statefun.playground/egress", kind: "io.statefun.playground.v1/egress" },
  ]);
});

test("/api/addresses shows decoded state, the backlog, timers and the suspension of one address", async (t) => {
  const fx = await startOpsFixture(t);
  assert.equal(await fx.post("test/profile/alice", "Alice", NAME), 202);
  assert.equal(await fx.post("test/profile/alice", "Alice B.", NAME), 202);
  assert.equal(await fx.post("test/timer/t1"), 202);
  await fx.runtime.dispatcher.settled();

  const alice = await call(`${fx.admin}/api/addresses/test/profile/alice`);
  assert.equal(alice.status, 200);
  assert.equal(alice.body.address, "test/profile/alice");
  assert.deepEqual((alice.body.endpoint as Json).name, "test/*");
  const state = alice.body.state as Json[];
  assert.deepEqual(
    state.map(({ name, typename, encoding, value, present }) => ({
      name,
      typename,
      encoding,
      value,
      present,
    })),
    [
      {
        name: "profile",
        typename: "example/Profile",
        encoding: "json",
        value: { name: "Alice B.", visits: 2 },
        present: true,
      },
      { name: "visits", typename: "io.statefun.types/int", encoding: "builtin", value: 2, present: true },
    ],
  );
  assert.deepEqual(alice.body.backlog, []);
  assert.equal(alice.body.suspension, null);

  const timer = await call(`${fx.admin}/api/addresses/test/timer/t1`);
  const sent = (timer.body.timers as { sent: Json[] }).sent;
  assert.equal(sent.length, 1);
  assert.equal(sent[0]?.target, "test/counter/reminded");
  assert.equal(sent[0]?.token, "reminder-x");
  const reminded = await call(`${fx.admin}/api/addresses/test/counter/reminded`);
  assert.equal((reminded.body.timers as { incoming: Json[] }).incoming.length, 1);

  assert.equal(await fx.post("test/broken/x", "first"), 202);
  assert.equal(await fx.post("test/broken/x", "second"), 202);
  await until(
    "test/broken/x to be suspended",
    () => fx.runtime.dispatcher.suspendedAddresses().length === 1,
    POLL,
  );
  const broken = await call(`${fx.admin}/api/addresses/test/broken/x`);
  const backlog = broken.body.backlog as Array<{ argument: Json; seq: number }>;
  assert.deepEqual(
    backlog.map((message) => message.argument.value),
    ["first", "second"],
  );
  assert.equal(backlog[0]?.argument.typename, "io.statefun.types/string");
  const suspension = broken.body.suspension as {
    failures: number;
    lastError: { code: string; message: string };
  };
  assert.ok(suspension.failures >= 1);
  assert.equal(suspension.lastError.code, "SB_TRANSPORT_DEADLINE_EXCEEDED");

  const percentEncoded = await call(`${fx.admin}/api/addresses/test/profile/${encodeURIComponent("a b/c")}`);
  assert.equal(percentEncoded.status, 200);
  assert.equal(percentEncoded.body.id, "a b/c");
});

test("/api/suspended lists suspended addresses with their last error; retry lifts the backoff now", async (t) => {
  const fx = await startOpsFixture(t);
  assert.equal(await fx.post("test/broken/x"), 202);
  await until(
    "test/broken/x to be suspended",
    () => fx.runtime.dispatcher.suspendedAddresses().length === 1,
    POLL,
  );
  const listed = await call(`${fx.admin}/api/suspended`);
  const [entry] = listed.body.suspended as Array<{ address: string; backlog: number; lastError: Json }>;
  assert.equal(entry?.address, "test/broken/x");
  assert.ok(
    entry?.backlog === 1 || entry?.backlog === 0,
    `0 while a backoff retry is in flight (${JSON.stringify(entry)})`,
  );
  assert.equal(entry?.lastError.code, "SB_TRANSPORT_DEADLINE_EXCEEDED");
  assert.doesNotMatch(String(entry?.lastError.message), /\?/, "no query strings in error messages");

  const requestsBefore = fx.runtime.transport.stats().reduce((sum, origin) => sum + origin.requests, 0);
  const retried = await call(`${fx.admin}/api/addresses/test/broken/x/retry`, "POST");
  assert.equal(retried.status, 202);
  await until(
    "the retry to reach the endpoint",
    () => fx.runtime.transport.stats().reduce((sum, origin) => sum + origin.requests, 0) > requestsBefore,
    POLL,
  );

  const healthy = await call(`${fx.admin}/api/addresses/test/counter/nobody/retry`, "POST");
  assert.equal(healthy.status, 409);
  assert.equal(errorCode(healthy.body), "SB_ADMIN_NOT_SUSPENDED");
});

test("bad admin requests get specific errors and change nothing", async (t) => {
  const fx = await startOpsFixture(t);
  const cases: Array<[string, string, number, string]> = [
    ["/nope", "GET", 404, "SB_ADMIN_NOT_FOUND"],
    ["/metrics", "POST", 405, "SB_ADMIN_BAD_METHOD"],
    ["/api/addresses/other/fn/a", "GET", 404, "SB_ADMIN_UNKNOWN_FUNCTION"],
    ["/api/addresses/test/counter/%E0%A4%A", "GET", 400, "SB_ADMIN_BAD_REQUEST"],
    ["/api/dead-letters/abc", "GET", 400, "SB_ADMIN_BAD_REQUEST"],
    ["/api/dead-letters?limit=-1", "GET", 400, "SB_ADMIN_BAD_REQUEST"],
    ["/api/dead-letters?fn=test/counter", "GET", 400, "SB_ADMIN_BAD_REQUEST"],
    ["/api/dead-letters/77", "GET", 404, "SB_ADMIN_UNKNOWN_DEAD_LETTER"],
    ["/api/addresses/test/counter/a/dead-letter", "POST", 409, "SB_ADMIN_NOT_SUSPENDED"],
  ];
  for (const [path, method, status, code] of cases) {
    const result = await call(`${fx.admin}${path}`, method);
    assert.equal(result.status, status, `${method} ${path}`);
    assert.equal(errorCode(result.body), code, `${method} ${path}`);
  }
  assert.equal(fx.runtime.store.messages.count(), 0);
  assert.equal((await call(`${fx.admin}/healthz`)).status, 200, "the admin server is still up");
});

test("dead letters: a suspended backlog moves to the durable dead-letter store, survives a restart, and is re-injected or dropped", async (t) => {
  const fx = await startOpsFixture(t);
  assert.equal(await fx.post("test/broken/x", "first"), 202);
  assert.equal(await fx.post("test/broken/x", "second"), 202);
  await until(
    "test/broken/x to be suspended",
    () => fx.runtime.dispatcher.suspendedAddresses().length === 1,
    POLL,
  );

  let moved = await call(`${fx.admin}/api/addresses/test/broken/x/dead-letter`, "POST");
  // SB_ADMIN_ADDRESS_BUSY while a backoff retry of the address is in flight: ask again.
  for (let i = 0; i < 100 && errorCode(moved.body) === "SB_ADMIN_ADDRESS_BUSY"; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    moved = await call(`${fx.admin}/api/addresses/test/broken/x/dead-letter`, "POST");
  }
  assert.equal(moved.status, 200);
  assert.equal(moved.body.moved, 2);
  assert.equal(fx.runtime.store.messages.count(), 0, "the messages left the inbox");
  assert.deepEqual((await call(`${fx.admin}/api/suspended`)).body.suspended, []);
  assert.equal(fx.runtime.store.suspensions.all().length, 0, "the suspension is gone from the store too");
  const again = await call(`${fx.admin}/api/addresses/test/broken/x/dead-letter`, "POST");
  assert.equal(errorCode(again.body), "SB_ADMIN_NOT_SUSPENDED");

  const listed = await call(`${fx.admin}/api/dead-letters`);
  const letters = listed.body.deadLetters as Array<{
    id: number;
    address: string;
    message: { argument: Json };
    error: Json;
  }>;
  assert.equal(listed.body.total, 2);
  assert.deepEqual(
    letters.map((letter) => [letter.address, letter.message.argument.value, letter.error.code]),
    [
      ["test/broken/x", "first", "SB_TRANSPORT_DEADLINE_EXCEEDED"],
      ["test/broken/x", "second", "SB_TRANSPORT_DEADLINE_EXCEEDED"],
    ],
  );
  const [first, second] = letters as [(typeof letters)[number], (typeof letters)[number]];
  const filtered = await call(`${fx.admin}/api/dead-letters?fn=test/broken&id=x&limit=1`);
  assert.equal((filtered.body.deadLetters as Json[]).length, 1);
  assert.equal(filtered.body.next, first.id);
  assert.equal(
    ((await call(`${fx.admin}/api/dead-letters?fn=test/broken&id=y`)).body.deadLetters as Json[]).length,
    0,
  );

  // Restart with test/broken routed to a working function: dead letters are durable.
  await fx.runtime.stop();
  const fixed = await startOpsFixture(t, { dataDir: fx.dataDir, brokenWorks: true });
  assert.equal((await call(`${fixed.admin}/api/dead-letters`)).body.total, 2);
  assert.equal((await call(`${fixed.admin}/api/dead-letters/${first.id}`)).status, 200);

  const reinjected = await call(`${fixed.admin}/api/dead-letters/${first.id}/reinject`, "POST");
  assert.equal(reinjected.status, 202);
  assert.equal(reinjected.body.address, "test/broken/x");
  await fixed.runtime.dispatcher.settled();
  const state = fixed.runtime.store.state.read({ fn: "test/broken", id: "x" }, Date.now());
  assert.equal(decodeInt(state.get("count")?.value), 1, "the re-injected message was applied once");
  assert.equal((await call(`${fixed.admin}/api/dead-letters/${first.id}`)).status, 404);
  const twice = await call(`${fixed.admin}/api/dead-letters/${first.id}/reinject`, "POST");
  assert.equal(errorCode(twice.body), "SB_ADMIN_UNKNOWN_DEAD_LETTER");

  const dropped = await call(`${fixed.admin}/api/dead-letters/${second.id}`, "DELETE");
  assert.deepEqual(dropped, { status: 200, body: { id: second.id, dropped: true } });
  const droppedAgain = await call(`${fixed.admin}/api/dead-letters/${second.id}`, "DELETE");
  assert.equal(errorCode(droppedAgain.body), "SB_ADMIN_UNKNOWN_DEAD_LETTER");
  assert.equal((await call(`${fixed.admin}/api/dead-letters`)).body.total, 0);
  assert.equal(fixed.runtime.store.messages.count(), 0);
  assert.equal(
    decodeInt(fixed.runtime.store.state.read({ fn: "test/broken", id: "x" }, Date.now()).get("count")?.value),
    1,
    "the dropped message was never applied",
  );
});

test("a taken admin port fails start-up with SB_IO_LISTEN_FAILED and leaves the store reusable", async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const port = (blocker.address() as AddressInfo).port;
  const dir = tempDir(t);
  const file = writeModuleYaml(dir, UNREACHABLE_TEST_ENDPOINT);
  await assert.rejects(Runtime.start({ modules: [file], dataDir: join(dir, "data"), adminPort: port }), {
    code: "SB_IO_LISTEN_FAILED",
  });
  const runtime = await Runtime.start({ modules: [file], dataDir: join(dir, "data"), adminPort: 0 });
  await runtime.stop();
});

test("switchboard run --admin-port serves the admin API and stops on SIGTERM", async (t) => {
  const dir = tempDir(t);
  const file = writeModuleYaml(dir, UNREACHABLE_TEST_ENDPOINT);
  const child = spawn(
    process.execPath,
    [
      "--conditions=development",
      "--import",
      "tsx",
      CLI,
      "run",
      file,
      "--data-dir",
      join(dir, "data"),
      "--admin-port",
      "0",
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SWITCHBOARD_LOG_LEVEL: "warn" } },
  );
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  let output = "";
  const admin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no admin line:\n${output}`)), 20_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /admin\s+(http:\/\/\S+?)\/ /.exec(output);
      if (match && output.includes("switchboard is running")) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
  });
  assert.deepEqual(await call(`${admin}/readyz`), {
    status: 200,
    body: { ready: true, checks: { store: true, configuration: true, running: true, cache: true } },
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  assert.equal(await exited, 0);
});
