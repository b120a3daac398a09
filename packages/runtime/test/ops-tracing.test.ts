import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { TracedTransport } from "../src/ops/traced-transport.js";
import { Runtime } from "../src/runtime.js";
import { startFunctionServer } from "./support/function-server.js";
import { ProtocolFunction } from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: number | string } }>;
}

/** A loopback OTLP/HTTP receiver: collects the spans of every JSON export it is sent. */
async function startOtlpReceiver(t: import("node:test").TestContext) {
  const spans: OtlpSpan[] = [];
  const contentTypes: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      contentTypes.push(String(request.headers["content-type"]));
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
      };
      for (const resource of body.resourceSpans)
        for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, spans, contentTypes };
}

function moduleFile(dir: string, functionsUrl: string, hookUrl: string): string {
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    [
      "kind: io.statefun.endpoints.v2/http",
      "spec:",
      "  functions: test/*",
      `  urlPathTemplate: ${functionsUrl}/{function.name}`,
      "---",
      "kind: io.switchboard.v1/webhook-egress",
      "spec:",
      "  id: test/audit",
      `  url: ${hookUrl}`,
      "---",
      "kind: io.statefun.playground.v1/ingress",
      "spec: { port: 0 }",
      "",
    ].join("\n"),
  );
  return file;
}

async function startHook(t: import("node:test").TestContext) {
  const seen: IncomingHttpHeaders[] = [];
  const hook = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      seen.push(request.headers);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => hook.close(() => resolve())));
  return { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/events`, seen };
}

const auditor = () =>
  new ProtocolFunction([], (_state, invocation, effects) => {
    effects.egress.push({ egressNamespace: "test", egressType: "audit", argument: invocation.argument });
  });

test("spans for ingress, invocation and outbound calls reach an OTLP receiver; traceparent reaches the function and the webhook", async (t) => {
  const dir = tempDir(t);
  const receiver = await startOtlpReceiver(t);
  const hook = await startHook(t);
  const functions = await startFunctionServer({ "test/auditor": auditor() });
  t.after(() => functions.close());
  const runtime = await Runtime.start({
    modules: [moduleFile(dir, functions.url, hook.url)],
    dataDir: join(dir, "data"),
    tracing: { otlpEndpoint: receiver.url, serviceName: "switchboard-test" },
  });
  t.after(() => runtime.stop());

  const clientTrace = "0af7651916cd43dd8448eb211c80319c";
  const clientSpan = "b7ad6b7169203331";
  const response = await fetch(`${runtime.ingresses[0]?.url}/test/auditor/a`, {
    method: "POST",
    body: "hello",
    headers: { traceparent: `00-${clientTrace}-${clientSpan}-01` },
  });
  assert.equal(response.status, 202);
  await runtime.dispatcher.settled();
  for (let i = 0; i < 500 && hook.seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(hook.seen.length, 1);

  const functionTraceparent = String(functions.lastHeaders.traceparent);
  assert.match(functionTraceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  assert.match(String(hook.seen[0]?.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

  await runtime.stop();
  const byName = (name: string) => receiver.spans.filter((span) => span.name === name);
  const ingress = byName("ingress test/auditor")[0];
  const invoke = byName("invoke test/auditor")[0];
  const clients = byName("HTTP POST");
  assert.ok(ingress && invoke, `spans received: ${receiver.spans.map((span) => span.name).join(", ")}`);
  assert.equal(ingress.traceId, clientTrace, "the ingress span continues the client's trace");
  assert.equal(ingress.parentSpanId, clientSpan);
  assert.ok(
    ingress.attributes.some(
      (a) => a.key === "switchboard.address" && a.value.stringValue === "test/auditor/a",
    ),
  );
  assert.equal(clients.length, 2, "one client span for the function call, one for the webhook");

  const [, traceId, spanId] = functionTraceparent.split("-");
  const functionCall = clients.find((span) => span.spanId === spanId);
  assert.ok(functionCall, "the function saw the client span's traceparent");
  assert.equal(functionCall.traceId, traceId);
  assert.equal(functionCall.parentSpanId, invoke.spanId, "the client span is a child of the invocation span");
  assert.equal(invoke.traceId, traceId);
  const webhookCall = clients.find((span) => span !== functionCall);
  assert.equal(String(hook.seen[0]?.traceparent).split("-")[2], webhookCall?.spanId);
  assert.ok(receiver.contentTypes.every((type) => type.startsWith("application/json")));
});

test("with tracing off nothing is wrapped and no traceparent is sent", async (t) => {
  const dir = tempDir(t);
  const hook = await startHook(t);
  const functions = await startFunctionServer({ "test/auditor": auditor() });
  t.after(() => functions.close());
  const runtime = await Runtime.start({
    modules: [moduleFile(dir, functions.url, hook.url)],
    dataDir: join(dir, "data"),
  });
  t.after(() => runtime.stop());
  assert.ok(!(runtime.transport instanceof TracedTransport));
  assert.equal(runtime.ops.context.tracing, undefined);
  const response = await fetch(`${runtime.ingresses[0]?.url}/test/auditor/a`, {
    method: "POST",
    body: "hello",
    headers: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
  });
  assert.equal(response.status, 202);
  await runtime.dispatcher.settled();
  for (let i = 0; i < 500 && hook.seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(functions.lastHeaders.traceparent, undefined);
  assert.equal(hook.seen[0]?.traceparent, undefined);
});
