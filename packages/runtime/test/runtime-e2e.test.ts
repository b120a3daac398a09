import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { Runtime } from "../src/runtime.js";
import { freePort, startFunctionServer } from "./support/function-server.js";
import {
  countInvocations,
  decodeInt,
  encodeInt,
  INT,
  ProtocolFunction,
} from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";
import { until } from "./support/until.js";

const RECORD = "io.statefun.playground/EgressRecord";

function moduleYaml(functionUrl: string, extra: string[] = []): string {
  return [
    "kind: io.statefun.endpoints.v2/http",
    "spec:",
    "  functions: test/*",
    `  urlPathTemplate: ${functionUrl}/{function.name}`,
    "  transport:",
    "    type: io.statefun.transports.v1/async",
    "    call: 300ms",
    ...extra,
    "",
  ].join("\n");
}

test("a message posted to ingress reaches a remote function, updates state and egresses", async (t) => {
  const dir = tempDir(t);
  const greeter = new ProtocolFunction([{ name: "count", typename: INT }], (state, invocation, effects) => {
    countInvocations(state, invocation, effects);
    const count = decodeInt(state.get("count"));
    effects.egress.push({
      egressNamespace: "io.statefun.playground",
      egressType: "egress",
      argument: {
        typename: RECORD,
        hasValue: true,
        value: Buffer.from(JSON.stringify({ topic: "greetings", payload: `hello #${count}` })),
      },
    });
  });
  const server = await startFunctionServer({ "test/greeter": greeter });
  t.after(() => server.close());
  const [ingressPort, egressPort] = [await freePort(), await freePort()];
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    moduleYaml(server.url, [
      "---",
      "kind: io.statefun.playground.v1/ingress",
      `spec: { port: ${ingressPort} }`,
      "---",
      "kind: io.statefun.playground.v1/egress",
      `spec: { port: ${egressPort}, topics: [greetings] }`,
    ]),
  );
  const runtime = await Runtime.start({ modules: [file], dataDir: join(dir, "data") });
  t.after(() => runtime.stop());

  for (let i = 0; i < 3; i++) {
    const response = await fetch(`http://127.0.0.1:${ingressPort}/test/greeter/alice`, {
      method: "POST",
      body: "hi",
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
  assert.deepEqual(greetings.slice(-1), ["hello #3"]);
  assert.equal(
    decodeInt(runtime.store.state.read({ fn: "test/greeter", id: "alice" }, Date.now()).get("count")?.value),
    3,
  );
});

test("an endpoint that is down suspends only its address's work, which is applied once it recovers", async (t) => {
  const dir = tempDir(t);
  const counter = new ProtocolFunction([{ name: "count", typename: INT }]);
  const server = await startFunctionServer({ "test/counter": counter });
  t.after(() => server.close());
  const file = join(dir, "module.yaml");
  writeFileSync(file, moduleYaml(server.url));
  const runtime = await Runtime.start({ modules: [file], dataDir: join(dir, "data") });
  t.after(() => runtime.stop());

  server.down = true;
  const argument = { typename: INT, hasValue: true, value: encodeInt(1) };
  await runtime.dispatcher.accept({ target: { fn: "test/counter", id: "a" }, argument });
  await until("the address to be suspended", () => runtime.dispatcher.suspendedAddresses().length === 1);
  assert.equal(runtime.store.messages.count(), 1, "the message stays stored while the endpoint is down");
  assert.match(runtime.dispatcher.suspendedAddresses()[0]?.lastError?.code ?? "", /^SB_TRANSPORT_/);

  server.down = false;
  runtime.dispatcher.retryNow({ fn: "test/counter", id: "a" });
  await until("the backlog to drain", () => runtime.store.messages.count() === 0);
  // The commit is visible in the store a moment before the dispatcher has taken its result in.
  await runtime.dispatcher.settled();
  assert.equal(
    decodeInt(runtime.store.state.read({ fn: "test/counter", id: "a" }, Date.now()).get("count")?.value),
    1,
  );
  assert.equal(runtime.dispatcher.suspendedAddresses().length, 0);
});

test("webhook egress POSTs each record in order with an idempotency key", async (t) => {
  const dir = tempDir(t);
  const received: Array<{ key: string | undefined; type: string | undefined; body: string }> = [];
  let failFirst = true;
  const hook = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (failFirst) {
        failFirst = false;
        response.writeHead(503).end();
        return;
      }
      received.push({
        key: request.headers["idempotency-key"] as string | undefined,
        type: request.headers["content-type"],
        body: Buffer.concat(chunks).toString(),
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => hook.close(() => resolve())));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/events`;

  const auditor = new ProtocolFunction([], (_state, invocation, effects) => {
    effects.egress.push({
      egressNamespace: "test",
      egressType: "audit",
      argument: {
        typename: "test/Event",
        hasValue: true,
        value: invocation.argument?.value ?? new Uint8Array(),
      },
    });
  });
  const server = await startFunctionServer({ "test/auditor": auditor });
  t.after(() => server.close());
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    moduleYaml(server.url, [
      "---",
      "kind: io.switchboard.v1/webhook-egress",
      `spec: { id: test/audit, url: "${hookUrl}" }`,
    ]),
  );
  const runtime = await Runtime.start({ modules: [file], dataDir: join(dir, "data") });
  t.after(() => runtime.stop());

  for (const body of ["one", "two"]) {
    await runtime.dispatcher.accept({
      target: { fn: "test/auditor", id: "x" },
      argument: { typename: "test/Event", hasValue: true, value: Buffer.from(body) },
    });
  }
  await until(
    "both records to be delivered",
    () => received.length === 2 && runtime.store.egress.count() === 0,
  );
  assert.deepEqual(
    received.map((record) => record.body),
    ["one", "two"],
  );
  assert.equal(received[0]?.type, "application/vnd.test/Event");
  assert.match(received[0]?.key ?? "", /^test\/audit\/\d+$/);
  assert.notEqual(received[0]?.key, received[1]?.key);
});

test("an invalid configuration starts nothing and reports every error", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "module.yaml");
  writeFileSync(file, "kind: io.statefun.endpoints.v2/http\nspec:\n  functions: bad\n");
  await assert.rejects(Runtime.start({ modules: [file], dataDir: join(dir, "data") }), /module\.yaml:3/);
});
