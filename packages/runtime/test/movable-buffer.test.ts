import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { MessageChannel, markAsUntransferable } from "node:worker_threads";
import { movableBuffer } from "../src/host/worker/movable-buffer.js";

test("bytes that own their whole buffer move; views, empty and shared buffers do not", () => {
  const whole = new Uint8Array([1, 2, 3]);
  assert.deepEqual(movableBuffer(whole), [whole.buffer]);
  assert.equal(movableBuffer(whole.subarray(1)), undefined);
  assert.equal(movableBuffer(new Uint8Array(0)), undefined);
  assert.equal(movableBuffer(new Uint8Array(new SharedArrayBuffer(4))), undefined);
});

test("posting any body with its transfer list never throws, and the other side gets the same bytes", async (t) => {
  const { port1, port2 } = new MessageChannel();
  t.after(() => {
    port1.close();
    port2.close();
  });
  const marked = new Uint8Array([9, 8, 7]);
  markAsUntransferable(marked.buffer);
  const empty = Buffer.alloc(0);
  const bodies = [
    new Uint8Array([1, 2, 3]),
    Buffer.from("pooled"),
    marked,
    // The same empty buffer twice: a shared constant must survive being sent more than once.
    empty,
    empty,
  ];
  for (const body of bodies) {
    const copy = Uint8Array.from(body);
    const received = once(port2, "message");
    port1.postMessage(body, movableBuffer(body) ?? []);
    const [got] = (await received) as [Uint8Array];
    assert.deepEqual(new Uint8Array(got), copy);
  }
  assert.deepEqual([...marked], [9, 8, 7], "a marked buffer stays usable where it was");
});
