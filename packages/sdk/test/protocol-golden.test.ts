import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { decodeFromFunction, encodeToFunction, ToFunctionSchema } from "@switchboard/sdk/protocol";

test("every ToFunction starts with the field-100 tag bytes a2 06", () => {
  const bytes = encodeToFunction(
    create(ToFunctionSchema, {
      request: { case: "invocation", value: { target: { namespace: "n", type: "t", id: "1" } } },
    }),
  );
  assert.equal(bytes[0], 0xa2);
  assert.equal(bytes[1], 0x06);
});

test("an empty FromFunction body decodes to no response, meaning no side effects", () => {
  const reply = decodeFromFunction(new Uint8Array(0));
  assert.equal(reply.response.case, undefined);
});
