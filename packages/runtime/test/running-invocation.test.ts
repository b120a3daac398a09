import assert from "node:assert/strict";
import { test } from "node:test";
import { HostErrors } from "../src/errors/host-errors.js";
import { SwitchboardError } from "../src/errors/switchboard-error.js";
import { HostCallTable } from "../src/host/host-calls.js";
import type { StreamSink } from "../src/host/invocation.js";
import { RunningInvocation } from "../src/host/running-invocation.js";

function invocation(): RunningInvocation {
  return new RunningInvocation(
    1,
    "module.ts",
    { kind: "stateful", bytes: new Uint8Array() },
    { timeoutMs: 1000, timeoutSetting: "limits.timeout", calls: new HostCallTable() },
  );
}

test("a chunk that arrives before the streamed head is sent waits for it, then goes to its sink", async () => {
  const running = invocation();
  running.streaming = true;
  const waiting = running.streamSink();
  const written: string[] = [];
  const sink: StreamSink = async (chunk) => {
    written.push(Buffer.from(chunk as Uint8Array).toString());
  };
  running.openStream(sink);
  await (await waiting)(new TextEncoder().encode("first"));
  await (await running.streamSink())(new TextEncoder().encode("second"));
  assert.deepEqual(written, ["first", "second"]);
});

test("a chunk for a response that is not streamed fails with a host call error", async () => {
  await assert.rejects(invocation().streamSink(), (error: unknown) => {
    assert.ok(error instanceof SwitchboardError);
    assert.equal(error.code, HostErrors.UNKNOWN_HOST_CALL.code);
    assert.match(error.message, /outside a streamed response/);
    return true;
  });
});

test("a chunk waiting for the head fails with the reason when the invocation is aborted", async () => {
  const running = invocation();
  running.streaming = true;
  const waiting = running.streamSink();
  const gone = new SwitchboardError(HostErrors.CLIENT_GONE, "the client went away");
  running.abort(gone);
  await assert.rejects(waiting, gone);
  await assert.rejects(running.streamSink(), gone);
});
