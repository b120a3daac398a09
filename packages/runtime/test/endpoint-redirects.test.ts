/** A function endpoint that has moved (307/308) is followed, as StateFun's client follows it. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { Runtime } from "../src/runtime.js";
import { startFunctionServer } from "./support/function-server.js";
import { startServer } from "./support/http-server.js";
import { PLAYGROUND_INGRESS, writeModuleYaml } from "./support/module-yaml.js";
import {
  countInvocations,
  decodeInt,
  encodeInt,
  INT,
  ProtocolFunction,
} from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";
import { until } from "./support/until.js";

test("a function endpoint answering 307 to another origin is followed and the address is not suspended", async (t) => {
  const functions = await startFunctionServer({
    "test/counter": new ProtocolFunction([{ name: "count", typename: INT }], countInvocations),
  });
  t.after(() => functions.close());
  const moved = await startServer((request, response) => {
    request.resume();
    response.writeHead(307, { location: `${functions.url}${request.url}` }).end();
  });
  t.after(() => moved.close());
  const dir = tempDir(t);
  const endpoint = [
    "kind: io.statefun.endpoints.v2/http",
    "spec:",
    "  functions: test/*",
    `  urlPathTemplate: ${moved.url}/{function.name}`,
  ].join("\n");
  const runtime = await Runtime.start({
    modules: [writeModuleYaml(dir, endpoint, PLAYGROUND_INGRESS)],
    dataDir: join(dir, "data"),
  });
  t.after(() => runtime.stop());
  const ingress = runtime.ingresses[0]?.url;
  const response = await fetch(`${ingress}/test/counter/a`, {
    method: "POST",
    headers: { "content-type": `application/vnd.${INT}` },
    body: encodeInt(1),
  });
  assert.equal(response.status, 202);
  const count = () =>
    decodeInt(runtime.store.state.read({ fn: "test/counter", id: "a" }, Date.now()).get("count")?.value);
  await until("the message to be applied", () => count() === 1);
  assert.deepEqual(runtime.store.suspensions.all(), []);
});
