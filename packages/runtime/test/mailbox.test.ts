import assert from "node:assert/strict";
import { test } from "node:test";
import { HeldMessages } from "../src/dispatch/held-messages.js";
import { Mailbox } from "../src/dispatch/mailbox.js";
import type { StoredMessage } from "../src/store/records.js";

const address = { fn: "t/f", id: "a" };
const message = (seq: number, bytes = 1): StoredMessage => ({
  seq,
  target: address,
  argument: { typename: "t/x", hasValue: true, value: new Uint8Array(bytes) },
  acceptedAt: 0,
});

test("a mailbox sends the messages it saw arrive, oldest first, a batch at a time", () => {
  const held = new HeldMessages(100);
  const mailbox = new Mailbox(address, held);
  mailbox.startKnown(message(1));
  for (const seq of [2, 3, 4]) mailbox.arrived(message(seq));
  assert.equal(mailbox.queued, 4);
  assert.deepEqual(
    mailbox.takeKnown(3).map((m) => m.seq),
    [1, 2, 3],
  );
  assert.equal(mailbox.queued, 1);
  assert.deepEqual(held.held.messages, 1);
  assert.deepEqual(
    mailbox.takeKnown(3).map((m) => m.seq),
    [4],
  );
  assert.deepEqual(held.held, { messages: 0, bytes: 0 });
});

test("a message reported after a newer one sends the mailbox back to reading and counting the store", () => {
  const held = new HeldMessages(100);
  const mailbox = new Mailbox(address, held);
  mailbox.startKnown(message(5));
  mailbox.arrived(message(7));
  mailbox.arrived(message(6));
  assert.equal(mailbox.known, undefined, "the copies in hand are no longer the whole backlog");
  assert.equal(mailbox.uncounted, true, "the next read counts the backlog");
  assert.deepEqual(held.held, { messages: 0, bytes: 0 }, "the copies were let go");
});

test("a message counted without its content, or past the bound, ends what a mailbox holds", () => {
  const held = new HeldMessages(2, 10);
  const counted = new Mailbox(address, held);
  counted.startKnown(message(1));
  counted.counted(2);
  assert.equal(counted.known, undefined);
  assert.equal(counted.queued, 2, "still counted");

  const bounded = new Mailbox({ fn: "t/f", id: "b" }, held);
  bounded.startKnown(message(10, 4));
  bounded.arrived(message(11, 4));
  bounded.arrived(message(12, 4));
  assert.equal(bounded.known, undefined, "the third would pass the bound of 10 bytes");
  assert.equal(bounded.queued, 3);
  assert.deepEqual(held.held, { messages: 0, bytes: 0 });
});

test("a read that leaves nothing behind makes the backlog known again, only where messages may be held", () => {
  const holding = new Mailbox(address, new HeldMessages(10));
  holding.queued = 1;
  holding.startReading();
  holding.batchRead([message(3)], 100);
  assert.deepEqual(holding.known, []);

  const reading = new Mailbox(address);
  reading.queued = 1;
  reading.startReading();
  reading.batchRead([message(3)], 100);
  assert.equal(reading.known, undefined, "without HeldMessages every batch is read");
});
