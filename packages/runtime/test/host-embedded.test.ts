import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Runtime } from "../src/runtime.js";
import { freePort, startFunctionServer } from "./support/function-server.js";
import { decodeInt, encodeInt, INT, ProtocolFunction } from "./support/protocol-function.js";
import { WEB_MODULE } from "./support/start-host.js";
import { tempDir } from "./support/temp-dir.js";
import { until } from "./support/until.js";

/** How the waits in this file poll. */
const POLL = { timeoutMs: 20_000 };

const GREETER = new URL("../../../examples/greeter/functions.ts", import.meta.url).pathname;

test("SDK stateful functions run embedded unchanged: ingress -> worker -> state -> egress", async (t) => {
  const dir = tempDir(t);
  const [ingressPort, egressPort] = [await freePort(), await freePort()];
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    [
      "kind: io.switchboard.functions.v1/module",
      `spec: { module: ${GREETER}, workers: 2 }`,
      "---",
      "kind: io.statefun.playground.v1/ingress",
      `spec: { port: ${ingressPort} }`,
      "---",
      "kind: io.statefun.playground.v1/egress",
      `spec: { port: ${egressPort}, topics: [greetings] }`,
    ].join("\n"),
  );
  const runtime = await Runtime.start({ modules: [file], dataDir: join(dir, "data") });
  t.after(() => runtime.stop());
  for (let i = 0; i < 3; i++) {
    const response = await fetch(`http://127.0.0.1:${ingressPort}/example/person/alice`, {
      method: "POST",
      body: "alice",
    });
    assert.equal(response.status, 202);
  }
  await runtime.dispatcher.settled();
  const greetings: string[] = [];
  for (;;) {
    const response = await fetch(`http://127.0.0.1:${egressPort}/greetings`);
    if (response.status === 404) break;
    greetings.push(await response.text());
  }
  assert.equal(greetings.length, 3);
  assert.match(greetings[2] ?? "", /Hello alice, good to see you for the 3rd time/);
  const unknown = await fetch(`http://127.0.0.1:${ingressPort}/example/nobody/x`, {
    method: "POST",
    body: "x",
  });
  assert.equal(unknown.status, 404, "typenames the module does not register are not served");
});

test("embedded and remote functions are routed side by side, exact bindings first", async (t) => {
  const dir = tempDir(t);
  const remote = new ProtocolFunction([{ name: "count", typename: INT }]);
  const server = await startFunctionServer({ "hosted/remote": remote });
  t.after(() => server.close());
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    [
      "kind: io.statefun.endpoints.v2/http",
      `spec: { functions: hosted/remote, urlPathTemplate: "${server.url}/{function.name}" }`,
      "---",
      "kind: io.switchboard.functions.v1/module",
      `spec: { module: ${WEB_MODULE}, workers: 1, functions: ["hosted/*"] }`,
    ].join("\n"),
  );
  const runtime = await Runtime.start({ modules: [file], dataDir: join(dir, "data") });
  t.after(() => runtime.stop());
  const argument = { typename: INT, hasValue: true, value: encodeInt(1) };
  for (let i = 0; i < 2; i++) {
    await runtime.dispatcher.accept({ target: { fn: "hosted/counter", id: "a" }, argument });
    await runtime.dispatcher.accept({ target: { fn: "hosted/remote", id: "a" }, argument });
  }
  await until("both backlogs to drain", () => runtime.store.messages.count() === 0, POLL);
  const now = Date.now();
  assert.equal(
    decodeInt(runtime.store.state.read({ fn: "hosted/counter", id: "a" }, now).get("count")?.value),
    2,
  );
  assert.equal(
    decodeInt(runtime.store.state.read({ fn: "hosted/remote", id: "a" }, now).get("count")?.value),
    2,
  );
  assert.equal(server.requests >= 2, true, "the remote function was called over HTTP");
});

test("an embedded function that throws suspends only its address, like a failing endpoint", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    `kind: io.switchboard.functions.v1/module\nspec: { module: ${WEB_MODULE}, workers: 1 }\n`,
  );
  const runtime = await Runtime.start({ modules: [file], dataDir: join(dir, "data") });
  t.after(() => runtime.stop());
  const argument = { typename: INT, hasValue: true, value: encodeInt(1) };
  await runtime.dispatcher.accept({ target: { fn: "hosted/broken", id: "x" }, argument });
  await runtime.dispatcher.accept({ target: { fn: "hosted/counter", id: "y" }, argument });
  await until(
    "the broken address to be suspended",
    () => runtime.dispatcher.suspendedAddresses().length === 1,
    POLL,
  );
  const [suspended] = runtime.dispatcher.suspendedAddresses();
  assert.equal(suspended?.lastError?.code, "SB_HOST_FUNCTION_FAILED");
  assert.match(suspended?.lastError?.message ?? "", /broken on purpose/);
  await until(
    "the healthy address to be applied",
    () => runtime.store.state.read({ fn: "hosted/counter", id: "y" }, Date.now()).get("count") !== undefined,
    POLL,
  );
});

test("a module YAML naming a typename the module does not register fails at start-up", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    `kind: io.switchboard.functions.v1/module\nspec: { module: ${WEB_MODULE}, workers: 1, functions: [hosted/missing] }\n`,
  );
  await assert.rejects(
    Runtime.start({ modules: [file], dataDir: join(dir, "data") }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, "SB_HOST_MODULE_LOAD_FAILED");
      assert.match(error.message, /hosted\/missing is not registered/);
      return true;
    },
  );
});

test("a module that throws while loading fails start-up with its error", async (t) => {
  const dir = tempDir(t);
  const broken = join(dir, "broken.ts");
  writeFileSync(broken, `throw new Error("cannot start: no config");\n`);
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    "kind: io.switchboard.functions.v1/module\nspec: { module: ./broken.ts, workers: 1 }\n",
  );
  await assert.rejects(
    Runtime.start({ modules: [file], dataDir: join(dir, "data") }),
    /cannot start: no config/,
  );
});
