import assert from "node:assert/strict";
import { test } from "node:test";
import { address, INT, LONG, messageBuilder, STRING, StatefulFunctions, valueSpec } from "@switchboard/sdk";
import { TestRuntime } from "@switchboard/sdk/testing";
import { functions as greeter } from "../../../examples/greeter/functions.js";

const SEEN = valueSpec("seen", INT);
const alice = address("example/person", "alice");

test("a message is delivered through every function it reaches, down to the egress", async () => {
  const runtime = new TestRuntime(greeter);
  const trace = await runtime.send(
    messageBuilder({ typename: "example/person", id: "alice", value: "alice" }),
  );
  assert.deepEqual(
    trace.map((record) => `${record.target.typename}/${record.target.id}`),
    ["example/person/alice", "example/greeter/alice"],
  );
  assert.equal(trace[1]?.caller?.typename, "example/person");
  assert.deepEqual(runtime.playgroundRecords("greetings"), ["Hello alice! 😎"]);
  assert.equal(runtime.getState(alice, SEEN), 1);

  await runtime.send(messageBuilder({ typename: "example/person", id: "alice", value: "alice" }));
  assert.deepEqual(runtime.playgroundRecords("greetings"), ["Hello alice! 😎", "Hello again alice! 🤗"]);
});

test("seeded state is what the function sees, and its write is reported as a state change", async () => {
  const runtime = new TestRuntime(greeter).setState(alice, SEEN, 41);
  const record = await runtime.invoke(alice, "alice");
  assert.deepEqual(
    record.stateChanges.map((change) => [
      change.name,
      change.deleted,
      INT.deserialize(change.value?.value ?? new Uint8Array()),
    ]),
    [["seen", false, 42]],
  );
  // invoke() runs one function only: the message to the greeter is reported, not delivered.
  assert.equal(record.messages.length, 1);
  assert.equal(record.messages[0]?.target.typename, "example/greeter");
  assert.deepEqual(record.messages[0]?.message.as(greeterRequest()), { name: "alice", seen: 42 });
  assert.equal(runtime.history.length, 1);
  assert.deepEqual(runtime.egress(), []);
});

function greeterRequest() {
  return {
    typename: "example/GreetRequest",
    serialize: (value: unknown) => new TextEncoder().encode(JSON.stringify(value)),
    deserialize: (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
  };
}

const REMINDERS = valueSpec("reminders", INT);
const reminder = new StatefulFunctions().register({
  typename: "test/reminder",
  specs: [REMINDERS],
  fn: (context, message) => {
    const command = message.asString();
    if (command === "remind") {
      context.sendAfter(
        1000,
        messageBuilder({ typename: "test/reminder", id: context.self.id, value: "ring" }),
        "r",
      );
    } else if (command === "cancel") {
      context.cancelDelayedMessage("r");
    } else if (command === "ring") {
      context.storage.set(REMINDERS, (context.storage.get(REMINDERS) ?? 0) + 1);
    }
  },
});
const bob = address("test/reminder", "bob");

test("a delayed message fires only when the fake clock reaches it, with the sender as caller", async () => {
  const runtime = new TestRuntime(reminder);
  const [scheduled] = await runtime.send(
    messageBuilder({ typename: "test/reminder", id: "bob", value: "remind" }),
  );
  assert.deepEqual(
    scheduled?.delayed.map((entry) => [entry.delayMs, entry.cancellationToken, entry.message.asString()]),
    [[1000, "r", "ring"]],
  );
  assert.equal((await runtime.advance(999)).length, 0);
  assert.equal(runtime.pendingDelayed()[0]?.fireAt, 1000);
  const fired = await runtime.advance(1);
  assert.equal(fired.length, 1);
  assert.equal(fired[0]?.at, 1000);
  assert.equal(fired[0]?.caller?.id, "bob");
  assert.equal(runtime.getState(bob, REMINDERS), 1);
  assert.equal(runtime.pendingDelayed().length, 0);
});

test("a cancelled delayed message never fires; re-using a token replaces the pending one", async () => {
  const runtime = new TestRuntime(reminder);
  const remind = messageBuilder({ typename: "test/reminder", id: "bob", value: "remind" });
  await runtime.send(remind);
  await runtime.advance(500);
  await runtime.send(remind); // replaces: now due at 1500
  assert.deepEqual(
    runtime.pendingDelayed().map((entry) => entry.fireAt),
    [1500],
  );
  await runtime.advance(600);
  assert.equal(runtime.getState(bob, REMINDERS), undefined);
  const [cancel] = await runtime.send(
    messageBuilder({ typename: "test/reminder", id: "bob", value: "cancel" }),
  );
  assert.deepEqual(cancel?.cancellations, ["r"]);
  await runtime.advance(10_000);
  assert.equal(runtime.getState(bob, REMINDERS), undefined);
  // Tokens belong to their sender: another address cancelling "r" leaves bob's alone.
  await runtime.send(remind);
  await runtime.send(messageBuilder({ typename: "test/reminder", id: "carol", value: "cancel" }));
  await runtime.advance(1000);
  assert.equal(runtime.getState(bob, REMINDERS), 1);
});

const SESSION = valueSpec("session", STRING, { expireAfterWrite: 1000 });
const VISITS = valueSpec("visits", LONG, { expireAfterCall: 1000 });
const ttl = new StatefulFunctions().register({
  typename: "test/ttl",
  specs: [SESSION, VISITS],
  fn: (context, message) => {
    if (message.asString() === "login") context.storage.set(SESSION, "token");
    context.storage.set(VISITS, (context.storage.get(VISITS) ?? 0n) + 1n);
  },
});
const dave = address("test/ttl", "dave");

test("state expires on the fake clock: after a write, or after the last invocation", async () => {
  const runtime = new TestRuntime(ttl);
  await runtime.send(messageBuilder({ typename: "test/ttl", id: "dave", value: "login" }));
  await runtime.advance(600);
  await runtime.send(messageBuilder({ typename: "test/ttl", id: "dave", value: "visit" }));
  await runtime.advance(600);
  // The session was written at 0 and is gone at 1200; visits were touched at 600 and live on.
  assert.equal(runtime.getState(dave, SESSION), undefined);
  assert.equal(runtime.getState(dave, VISITS), 2n);
  await runtime.advance(1000);
  assert.equal(runtime.getState(dave, VISITS), undefined);
});

test("messages to types the registry does not serve are collected, not lost", async () => {
  const runtime = new TestRuntime(
    new StatefulFunctions().register({
      typename: "test/forward",
      fn: (context) => context.send(messageBuilder({ typename: "elsewhere/sink", id: "x", value: "hello" })),
    }),
  );
  await runtime.send(messageBuilder({ typename: "test/forward", id: "a", value: "go" }));
  assert.equal(runtime.undelivered.length, 1);
  assert.equal(runtime.undelivered[0]?.target.typename, "elsewhere/sink");
  assert.equal(runtime.undelivered[0]?.message.asString(), "hello");
});

test("functions that message each other forever are stopped with a clear error", async () => {
  const runtime = new TestRuntime(
    new StatefulFunctions().register({
      typename: "test/echo",
      fn: (context) => context.send(messageBuilder({ typename: "test/echo", id: "a", value: "again" })),
    }),
    { maxInvocations: 50 },
  );
  await assert.rejects(
    runtime.send(messageBuilder({ typename: "test/echo", id: "a", value: "go" })),
    /more than 50 invocations/,
  );
});

test("a seeded state of the wrong type fails the invocation like the real handler does", async () => {
  const runtime = new TestRuntime(greeter).setState(alice, valueSpec("seen", STRING), "many");
  await assert.rejects(runtime.invoke(alice, "alice"), { code: "SB_SDK_STATE_TYPE_MISMATCH" });
});

test("the clock never goes backwards and advance refuses negative steps", async () => {
  const runtime = new TestRuntime(greeter, { startMs: 5000 });
  assert.equal(runtime.clock.now(), 5000);
  await assert.rejects(runtime.advance(-1), RangeError);
  assert.throws(() => runtime.clock.set(10), RangeError);
});
