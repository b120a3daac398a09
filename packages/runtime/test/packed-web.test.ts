import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageChannel } from "node:worker_threads";
import type { WireWebRequest, WireWebResponse } from "@switchboard/sdk/internal";
import { packWebDone, packWebRun, unpackWebDone, unpackWebRun } from "../src/host/worker/packed-web.js";

/** Sends a value across a real MessagePort (structured clone) and returns what arrives. */
async function across<T>(value: T): Promise<T> {
  const { port1, port2 } = new MessageChannel();
  const arrived = new Promise<T>((resolve) => port2.once("message", resolve));
  port1.postMessage(value);
  const out = await arrived;
  port1.close();
  return out;
}

test("a packed web request crosses a port unchanged, repeated headers and a Data body included", async () => {
  const withBytes: WireWebRequest = {
    name: "price",
    method: "POST",
    path: "/a/b",
    rawQuery: "x=1&x=2",
    invocationId: "7",
    headers: [
      ["accept", "a"],
      ["accept", "b"],
      ["content-type", "application/json"],
    ],
    body: { bytes: new Uint8Array([1, 2, 3]) },
  };
  assert.deepEqual(unpackWebRun(await across(packWebRun(7, withBytes))), { id: 7, request: withBytes });
  const withData: WireWebRequest = { ...withBytes, headers: [], body: { id: 42 } };
  assert.deepEqual(unpackWebRun(await across(packWebRun(8, withData))), { id: 8, request: withData });
});

test("bytes and empty responses pack with their repeated headers; Data and streams keep the object form", async () => {
  const bytes: WireWebResponse = {
    status: 201,
    headers: [
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
    ],
    body: { kind: "bytes", bytes: new Uint8Array([9]) },
  };
  const packed = packWebDone(3, bytes);
  assert.ok(packed);
  assert.deepEqual(unpackWebDone(await across(packed)), { id: 3, response: bytes });
  const none: WireWebResponse = { status: 204, headers: [], body: { kind: "none" } };
  assert.deepEqual(
    unpackWebDone(await across(packWebDone(4, none) as NonNullable<ReturnType<typeof packWebDone>>)),
    {
      id: 4,
      response: none,
    },
  );
  assert.equal(packWebDone(5, { status: 200, headers: [], body: { kind: "data", id: 1 } }), undefined);
  assert.equal(packWebDone(6, { status: 200, headers: [], body: { kind: "stream" } }), undefined);
});
