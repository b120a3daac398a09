/**
 * Hosted functions in a cluster: two runtimes in this process on one PostgreSQL database, each
 * running the module's worker pool. Stateful functions run on whichever instance owns the
 * address, messages are posted to both ingresses, greetings are popped from both egresses,
 * and web functions answer on both.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { Runtime } from "../src/runtime.js";
import { freePort } from "./support/function-server.js";
import { createTestDatabase } from "./support/postgres-database.js";
import { WEB_MODULE } from "./support/start-host.js";
import { tempDir } from "./support/temp-dir.js";
import { until } from "./support/until.js";

const GREETER = new URL("../../../examples/greeter/functions.ts", import.meta.url).pathname;
const PARTITIONS = 8;
const NAMES = Array.from({ length: 10 }, (_, i) => `person${i}`);

interface Instance {
  readonly runtime: Runtime;
  readonly ingress: string;
  readonly egress: string;
  readonly web: string;
}

async function startInstance(
  t: TestContext,
  url: string,
  instanceId: string,
  started: Runtime[],
): Promise<Instance> {
  const [ingressPort, egressPort] = [await freePort(), await freePort()];
  const file = join(tempDir(t), "module.yaml");
  writeFileSync(
    file,
    [
      `kind: io.switchboard.functions.v1/module\nspec: { module: ${GREETER}, workers: 1 }`,
      `kind: io.switchboard.functions.v1/module\nspec: { module: ${WEB_MODULE}, workers: 1, functions: [], web: [echo-text] }`,
      "kind: io.switchboard.functions.v1/web\nspec: { port: 0 }",
      `kind: io.statefun.playground.v1/ingress\nspec: { port: ${ingressPort} }`,
      `kind: io.statefun.playground.v1/egress\nspec: { port: ${egressPort}, topics: [greetings] }`,
    ].join("\n---\n"),
  );
  const runtime = await Runtime.start({
    modules: [file],
    store: url,
    cluster: { instanceId, leaseMs: 3000, partitions: PARTITIONS },
    drainTimeoutMs: 500,
  });
  started.push(runtime);
  const web = runtime.host.listeners[0];
  assert.ok(web, "the web listener started");
  return {
    runtime,
    ingress: `http://127.0.0.1:${ingressPort}`,
    egress: `http://127.0.0.1:${egressPort}/greetings`,
    web: `${web.url}/functions`,
  };
}

test("every instance runs the hosted module: stateful functions on their owners, web functions anywhere", async (t) => {
  const started: Runtime[] = [];
  // Registered before the database's drop, so the instances stop while it still exists.
  t.after(async () => {
    for (const runtime of started) await runtime.stop(500);
  });
  const { url } = await createTestDatabase("cluster_hosted", t);
  const a = await startInstance(t, url, "a", started);
  const b = await startInstance(t, url, "b", started);
  await until(
    "the partitions to be shared",
    () =>
      a.runtime.cluster?.ownedCount() === PARTITIONS / 2 &&
      b.runtime.cluster?.ownedCount() === PARTITIONS / 2,
    { timeoutMs: 20_000, intervalMs: 20 },
  );

  // Each person is greeted three times, through a, b and a again: order is acknowledgement order.
  for (const entry of [a, b, a]) {
    for (const name of NAMES) {
      const response = await fetch(`${entry.ingress}/example/person/${name}`, { method: "POST", body: name });
      assert.equal(response.status, 202);
    }
  }

  const greetings: string[] = [];
  const deadline = Date.now() + 30_000;
  while (greetings.length < NAMES.length * 3 && Date.now() < deadline) {
    let popped = false;
    for (const { egress } of [a, b]) {
      const response = await fetch(egress);
      if (response.status === 200) {
        greetings.push(await response.text());
        popped = true;
      } else {
        await response.arrayBuffer();
      }
    }
    if (!popped) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const name of NAMES) {
    assert.deepEqual(
      greetings.filter((greeting) => greeting.includes(`${name}!`) || greeting.includes(`${name},`)),
      [`Hello ${name}! 😎`, `Hello again ${name}! 🤗`, `Hello ${name}, good to see you for the 3rd time! 🎉`],
      `${name}'s greetings, each once and in order`,
    );
  }
  assert.equal(greetings.length, NAMES.length * 3);
  for (const { egress } of [a, b]) assert.equal((await fetch(egress)).status, 404, "nothing popped twice");
  const applied = [a, b].map(({ runtime }) => runtime.dispatcher.stats().applied);
  assert.ok(
    applied.every((count) => count > 0),
    `both instances applied batches of their own addresses: ${applied}`,
  );

  for (const { web } of [a, b]) {
    const response = await fetch(`${web}/echo-text`, { method: "POST", body: "hi" });
    assert.equal(await response.text(), "got hi");
  }
});
