import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { MessageChannel } from "node:worker_threads";
import { type Batch, Outbox, unbatch } from "../src/host/worker/outbox.js";

type Message = { n: number; value?: unknown };

test("messages sent in one turn arrive as one batch, in order, with their buffers moved", async (t) => {
  const { port1, port2 } = new MessageChannel();
  t.after(() => port1.close());
  const posts: number[] = [];
  const outbox = new Outbox<Message>(
    (message, transfer) => {
      posts.push(transfer.length);
      port1.postMessage(message, transfer);
    },
    () => assert.fail("nothing here is undeliverable"),
  );
  const bytes = new Uint8Array([1, 2, 3]);
  outbox.send({ n: 1 });
  outbox.send({ n: 2, value: bytes }, [bytes.buffer]);
  const [batch] = (await once(port2, "message")) as [Batch<Message>];
  const got: Message[] = [];
  unbatch(batch, (message) => got.push(message));
  assert.deepEqual(
    got.map((message) => message.n),
    [1, 2],
  );
  assert.deepEqual(posts, [1], "one post for the turn, moving the one buffer");
  assert.equal(bytes.byteLength, 0, "the buffer was moved, not copied");
});

test("a message that cannot be cloned fails alone; the rest of its batch still arrives, in order", async (t) => {
  const { port1, port2 } = new MessageChannel();
  t.after(() => port1.close());
  const failed: Array<{ n: number; error: string }> = [];
  const outbox = new Outbox<Message>(
    (message, transfer) => port1.postMessage(message, transfer),
    (message, error) => failed.push({ n: message.n, error: error.name }),
  );
  const bytes = new Uint8Array([4, 5]);
  outbox.send({ n: 1 });
  outbox.send({ n: 2, value: () => "a callback" });
  outbox.send({ n: 3, value: bytes }, [bytes.buffer]);
  outbox.flush();
  const got: Message[] = [];
  for (let index = 0; index < 2; index++) {
    const [message] = (await once(port2, "message")) as [Message];
    got.push(message);
  }
  assert.deepEqual(
    got.map((message) => message.n),
    [1, 3],
  );
  assert.deepEqual(Array.from((got[1] as Message).value as Uint8Array), [4, 5]);
  assert.deepEqual(failed, [{ n: 2, error: "DataCloneError" }]);
});
