import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import type { FunctionInvoker } from "../src/invoke/function-invoker.js";
import { Runtime } from "../src/runtime.js";
import { PLAYGROUND_INGRESS, UNREACHABLE_TEST_ENDPOINT, writeModuleYaml } from "./support/module-yaml.js";
import { tempDir } from "./support/temp-dir.js";

/** Never answers, so the first message of an address stays in flight and the rest queue. */
const hanging: FunctionInvoker = { invoke: () => new Promise(() => {}) };

test("by default an address is refused with 429 and Retry-After exactly when 1000 messages wait, while another address is still accepted", async (t) => {
  const dir = tempDir(t);
  // No maxNumBatchRequests: the StateFun default of 1000 applies.
  const file = writeModuleYaml(dir, UNREACHABLE_TEST_ENDPOINT, PLAYGROUND_INGRESS);
  const runtime = await Runtime.start({ modules: [file], dataDir: join(dir, "data"), invoker: hanging });
  t.after(() => runtime.stop(10));
  const base = runtime.ingresses[0]?.url;
  const post = (id: string, body: string) =>
    fetch(`${base}/test/counter/${id}`, { method: "POST", body }).then(async (response) => {
      await response.arrayBuffer();
      return response;
    });

  assert.equal((await post("hot", "in flight")).status, 202);
  assert.equal(runtime.dispatcher.stats().inFlight, 1);

  // Fill the backlog to exactly 1000, a few requests at a time.
  let sent = 0;
  const sender = async () => {
    while (sent < 1000) {
      sent++;
      const response = await post("hot", `m${sent}`);
      assert.equal(response.status, 202, `message ${sent} of the backlog is accepted`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, sender));
  assert.equal(runtime.dispatcher.stats().backlog, 1000);
  assert.equal(runtime.dispatcher.stats().backpressured, 1);

  const refused = await post("hot", "one too many");
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.equal(runtime.store.messages.count(), 1001, "the refused message was not stored");

  assert.equal((await post("cold", "elsewhere")).status, 202);
  assert.equal(runtime.store.messages.count(), 1002);
});
