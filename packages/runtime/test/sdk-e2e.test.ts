import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { startGreeterServer } from "../../../examples/greeter/server.js";
import { Runtime } from "../src/runtime.js";
import { freePort } from "./support/function-server.js";
import { tempDir } from "./support/temp-dir.js";

test("the SDK-served greeter runs behind the runtime: ingress -> person -> greeter -> egress", async (t) => {
  const dir = tempDir(t);
  const { server, port } = await startGreeterServer(0);
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const [ingressPort, egressPort] = [await freePort(), await freePort()];
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    [
      "kind: io.statefun.endpoints.v2/http",
      "spec:",
      "  functions: example/*",
      `  urlPathTemplate: http://127.0.0.1:${port}/{function.name}`,
      "---",
      "kind: io.statefun.playground.v1/ingress",
      `spec: { port: ${ingressPort} }`,
      "---",
      "kind: io.statefun.playground.v1/egress",
      `spec: { port: ${egressPort}, topics: [greetings] }`,
      "",
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
  const greetings: string[] = [];
  for (let i = 0; i < 200 && greetings.length < 3; i++) {
    const response = await fetch(`http://127.0.0.1:${egressPort}/greetings`);
    if (response.status === 200) greetings.push(await response.text());
    else await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.deepEqual(greetings, [
    "Hello alice! 😎",
    "Hello again alice! 🤗",
    "Hello alice, good to see you for the 3rd time! 🎉",
  ]);
  const specs = runtime.dispatcher.registeredSpecs().get("example/person");
  assert.deepEqual(
    specs?.map((spec) => [spec.name, spec.typename]),
    [["seen", "io.statefun.types/int"]],
  );
});
