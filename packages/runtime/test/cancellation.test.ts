import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { Cancellation } from "../src/transport/cancellation.js";
import { createTransport } from "../src/transport/index.js";
import { testTransportOptions } from "./support/test-router.js";

test("a Cancellation ends a call in flight, and a call given one already aborted never starts", async (t) => {
  let requests = 0;
  const server = createServer(() => {
    requests++; // never answered: only the cancellation ends the call
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const client = createTransport();
  t.after(async () => {
    await client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const options = { ...testTransportOptions, callTimeoutMs: 10_000 };

  const cancel = new Cancellation();
  const call = client.exchange({ url, method: "POST", body: "x", options, cancel }, () => "answered");
  for (let tries = 0; requests === 0 && tries < 200; tries++) await new Promise((r) => setTimeout(r, 5));
  const startedAt = performance.now();
  cancel.abort(new Error("stop now"));
  await assert.rejects(call);
  assert.ok(performance.now() - startedAt < 2000, "ended by the cancellation, not the deadline");

  const before = requests;
  await assert.rejects(
    client.exchange({ url, method: "POST", body: "x", options, cancel }, () => "answered"),
  );
  assert.equal(requests, before, "an aborted cancellation sends nothing");
});

test("a Cancellation tells its one listener once, and a removed listener not at all", () => {
  const cancel = new Cancellation();
  let heard = 0;
  const first = () => heard++;
  cancel.onAbort(first);
  cancel.offAbort(first);
  cancel.abort();
  assert.equal(heard, 0);
  const again = new Cancellation();
  again.onAbort(() => heard++);
  again.abort(new Error("one"));
  again.abort(new Error("two"));
  assert.equal(heard, 1);
  assert.equal((again.reason as Error).message, "one");
});
