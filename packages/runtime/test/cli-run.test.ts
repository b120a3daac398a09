import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { decodeToFunction, encodeFromFunction } from "@switchboard/sdk/protocol";
import { Runtime } from "../src/runtime.js";
import { Store } from "../src/store/store.js";
import { spawnCli } from "./support/cli-child.js";
import { switchboard } from "./support/cli-command.js";
import { PLAYGROUND_INGRESS, UNREACHABLE_TEST_ENDPOINT, writeModuleYaml } from "./support/module-yaml.js";
import { decodeInt, encodeInt, INT, ProtocolFunction } from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";
import { until } from "./support/until.js";

/** How the waits in this file poll. */
const POLL = { timeoutMs: 20_000 };

/** A counter function server whose replies wait until `release()`, to hold batches in flight. */
async function startHeldFunction() {
  const counter = new ProtocolFunction([{ name: "count", typename: INT }]);
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const received: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      const toFunction = decodeToFunction(Buffer.concat(chunks));
      const target = toFunction.request.case === "invocation" ? toFunction.request.value.target : undefined;
      const body = encodeFromFunction(counter.handle(toFunction));
      // Missing-state round trips are answered at once; only real invocations are held.
      if (toFunction.request.value?.state.length) {
        received.push(target?.id ?? "");
        await released;
      }
      response.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    release: () => release(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

test("switchboard run prints where it listens, drains in-flight batches on SIGTERM, exits 0 and loses nothing acknowledged", async (t) => {
  const dir = tempDir(t);
  const fn = await startHeldFunction();
  t.after(() => fn.close());
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    [
      "kind: io.statefun.endpoints.v2/http",
      "spec:",
      "  functions: test/*",
      `  urlPathTemplate: ${fn.url}/{function.name}`,
      "---",
      "kind: io.statefun.playground.v1/ingress",
      "spec: { port: 0 }",
      "",
    ].join("\n"),
  );
  const dataDir = join(dir, "data");
  const child = spawnCli(t, ["run", file, "--data-dir", dataDir]);
  await child.waitFor(/switchboard is running/, "the runtime to start", 20_000);
  const ingress = /ingress\s+(http:\/\/127\.0\.0\.1:\d+)\/<namespace>\/<name>\/<id>/.exec(
    child.stdout(),
  )?.[1];
  assert.ok(ingress, `stdout names the ingress URL:\n${child.stdout()}\n${child.stderr()}`);
  assert.match(child.stdout(), new RegExp(`functions test/\\* -> ${fn.url}/\\{function.name\\}`));

  const post = async (id: string, value: number) => {
    const response = await fetch(`${ingress}/test/counter/${id}`, {
      method: "POST",
      headers: { "content-type": `application/vnd.${INT}` },
      body: encodeInt(value),
    });
    await response.arrayBuffer();
    return response.status;
  };
  for (const id of ["a", "b", "c"]) assert.equal(await post(id, 1), 202);
  await until("three batches in flight", () => fn.received.length === 3, POLL);
  assert.equal(await post("a", 2), 202, "a second message for a waits in its backlog");

  child.process.kill("SIGTERM");
  await until("the drain to begin", () => child.stdout().includes("SIGTERM: draining"), POLL);
  // The batches are still in flight; answering them now is what the drain must wait for.
  fn.release();
  assert.equal(await child.exited, 0, `exit code (stderr: ${child.stderr()})`);

  const store = Store.open(dataDir);
  const count = (id: string) =>
    decodeInt(store.state.read({ fn: "test/counter", id }, Date.now()).get("count")?.value);
  assert.deepEqual(["a", "b", "c"].map(count), [1, 1, 1], "every in-flight batch was applied before exit");
  assert.equal(store.messages.count(), 1, "the backlog message is still stored, not lost");
  store.close();

  // Restarted, the runtime delivers what was acknowledged and not yet applied, exactly once.
  const runtime = await Runtime.start({ modules: [file], dataDir });
  t.after(() => runtime.stop());
  await until("the backlog to drain after restart", () => runtime.store.messages.count() === 0, POLL);
  await runtime.dispatcher.settled();
  assert.deepEqual(
    ["a", "b", "c"].map((id) =>
      decodeInt(runtime.store.state.read({ fn: "test/counter", id }, Date.now()).get("count")?.value),
    ),
    [2, 1, 1],
  );
});

test("switchboard send posts one message to a running ingress and fails with the answer when it is refused", async (t) => {
  const dir = tempDir(t);
  const file = writeModuleYaml(dir, UNREACHABLE_TEST_ENDPOINT, PLAYGROUND_INGRESS);
  const runtime = await Runtime.start({
    modules: [file],
    dataDir: join(dir, "data"),
    invoker: { invoke: () => new Promise(() => {}) },
  });
  t.after(() => runtime.stop(10));
  const ingress = runtime.ingresses[0]?.url ?? "";
  const send = (...args: string[]) => switchboard(["send", ...args, "--ingress", ingress]);

  const text = await send("test/counter/a", "--data", "hello");
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^202 /);
  const typed = await send("test/counter/b", "--type", "example/Thing", "--data", "{}");
  assert.equal(typed.code, 0);
  const refused = await send("nowhere/fn/c", "--data", "x");
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /^404 .*SB_INGRESS_UNKNOWN_FUNCTION/);

  const stored = runtime.store.messages.all();
  assert.deepEqual(
    stored.map((message) => [message.target.id, message.argument.typename]),
    [
      ["a", "io.statefun.types/string"],
      ["b", "example/Thing"],
    ],
  );
});
