import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { INT, STRING } from "@switchboard/sdk";
import { FromFunctionSchema, ToFunctionSchema } from "@switchboard/sdk/protocol";
import { startGreeterServer } from "../../../examples/greeter/server.js";

test("the greeter example counts visits and asks the greeter for a greeting", async (t) => {
  const { server, port } = await startGreeterServer(0);
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const body = toBinary(
    ToFunctionSchema,
    create(ToFunctionSchema, {
      request: {
        case: "invocation",
        value: {
          target: { namespace: "example", type: "person", id: "alice" },
          state: [
            {
              stateName: "seen",
              stateValue: { typename: INT.typename, hasValue: true, value: INT.serialize(1) },
            },
          ],
          invocations: [
            { argument: { typename: STRING.typename, hasValue: true, value: STRING.serialize("alice") } },
          ],
        },
      },
    }),
  );
  const response = await fetch(`http://127.0.0.1:${port}/person`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body,
  });
  const reply = fromBinary(FromFunctionSchema, new Uint8Array(await response.arrayBuffer()));
  assert.equal(reply.response.case, "invocationResult");
  if (reply.response.case !== "invocationResult") return;
  assert.equal(
    INT.deserialize(reply.response.value.stateMutations[0]?.stateValue?.value ?? new Uint8Array()),
    2,
  );
  const toGreeter = reply.response.value.outgoingMessages[0];
  assert.equal(toGreeter?.target?.type, "greeter");
  assert.deepEqual(JSON.parse(Buffer.from(toGreeter?.argument?.value ?? []).toString()), {
    name: "alice",
    seen: 2,
  });
});
