import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Runtime } from "../src/runtime.js";
import { encodeInt, INT } from "./support/protocol-function.js";
import { WEB_MODULE } from "./support/start-host.js";
import { tempDir } from "./support/temp-dir.js";
import { until } from "./support/until.js";

interface Json {
  [key: string]: unknown;
}

async function call(url: string, method = "GET"): Promise<{ status: number; body: Json }> {
  const response = await fetch(url, { method });
  return { status: response.status, body: (await response.json()) as Json };
}

test("the admin API shows, retries and dead-letters hosted (embedded) stateful functions like remote ones", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    `kind: io.switchboard.functions.v1/module\nspec: { module: ${WEB_MODULE}, workers: 1 }\n`,
  );
  const runtime = await Runtime.start({ modules: [file], dataDir: join(dir, "data"), adminPort: 0 });
  t.after(() => runtime.stop());
  const admin = runtime.ops.adminUrl as string;
  const argument = { typename: INT, hasValue: true, value: encodeInt(1) };
  await runtime.dispatcher.accept({ target: { fn: "hosted/broken", id: "x" }, argument });
  await until("hosted/broken/x to be suspended", () => runtime.dispatcher.suspendedAddresses().length === 1, {
    timeoutMs: 15_000,
  });

  const functions = await call(`${admin}/api/functions`);
  const hosted = (functions.body.endpoints as Json[]).find((endpoint) => endpoint.name === "hosted/broken");
  assert.ok(hosted, `/api/functions lists the hosted module: ${JSON.stringify(functions.body.endpoints)}`);
  assert.match(String(hosted.urlPathTemplate), /^embedded:/);

  const view = await call(`${admin}/api/addresses/hosted/broken/x`);
  assert.equal(view.status, 200, JSON.stringify(view.body));
  assert.equal((view.body.endpoint as Json).name, "hosted/broken");
  assert.equal((view.body.suspension as Json).address, "hosted/broken/x");

  const retried = await call(`${admin}/api/addresses/hosted/broken/x/retry`, "POST");
  assert.equal(retried.status, 202, JSON.stringify(retried.body));

  let moved = await call(`${admin}/api/addresses/hosted/broken/x/dead-letter`, "POST");
  // SB_ADMIN_ADDRESS_BUSY while the retry is in flight: ask again.
  for (let i = 0; i < 100 && (moved.body.error as Json | undefined)?.code === "SB_ADMIN_ADDRESS_BUSY"; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    moved = await call(`${admin}/api/addresses/hosted/broken/x/dead-letter`, "POST");
  }
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  assert.equal(moved.body.moved, 1);
  assert.equal(runtime.store.messages.count(), 0, "the poison message left the inbox");
  assert.deepEqual(runtime.dispatcher.suspendedAddresses(), []);
  assert.equal((await call(`${admin}/api/dead-letters`)).body.total, 1);
});
