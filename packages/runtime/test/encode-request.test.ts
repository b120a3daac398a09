import assert from "node:assert/strict";
import test from "node:test";
import { encodeToFunction } from "@switchboard/sdk/protocol";
import { buildBatchRequest } from "../src/invoke/build-request.js";
import { encodeBatchRequest } from "../src/invoke/encode-request.js";
import type { StateSpec, StateValue, StoredMessage } from "../src/store/records.js";

const spec = (name: string, typename = "io.statefun.types/int"): StateSpec => ({
  name,
  typename,
  expireMode: 0,
  expireAfterMs: 0,
});
const value = (name: string, bytes: Uint8Array): StateValue => ({ name, value: bytes, expiresAt: null });
const message = (seq: number, extra: Partial<StoredMessage> = {}): StoredMessage => ({
  seq,
  acceptedAt: 0,
  target: { fn: "ns/fn", id: "a" },
  argument: { typename: "io.statefun.types/string", hasValue: true, value: new Uint8Array([10, 1, 120]) },
  ...extra,
});

test("hand-written ToFunction bytes equal the generated encoder's for every shape of batch", () => {
  const big = new Uint8Array(20_000).fill(7);
  const cases: Array<[string, Parameters<typeof encodeBatchRequest>]> = [
    ["one ingress message, no state", [{ fn: "ns/fn", id: "a" }, [], new Map(), [message(1)]]],
    [
      "state present and absent, callers, empty and valueless arguments",
      [
        { fn: "deep/name/space/fn", id: "ключ-🔑" },
        [spec("seen"), spec("missing", "com.example/Thing"), spec("empty")],
        new Map([
          ["seen", value("seen", new Uint8Array([8, 42]))],
          ["empty", value("empty", new Uint8Array(0))],
        ]),
        [
          message(1, { caller: { fn: "other/caller", id: "c-1" } }),
          message(2, { argument: { typename: "", hasValue: false, value: new Uint8Array(0) } }),
          message(3, { argument: { typename: "t/é", hasValue: true, value: new Uint8Array(0) } }),
          message(4, { caller: { fn: "x/y", id: "" } }),
        ],
      ],
    ],
    [
      "values longer than one and two varint bytes",
      [
        { fn: "ns/fn", id: "a".repeat(300) },
        [spec("blob", "t/blob")],
        new Map([["blob", value("blob", big)]]),
        Array.from({ length: 200 }, (_, index) =>
          message(index, {
            argument: { typename: "t/big", hasValue: true, value: big.subarray(0, index * 90) },
          }),
        ),
      ],
    ],
  ];
  for (const [name, args] of cases) {
    const expected = encodeToFunction(buildBatchRequest(...args));
    assert.deepEqual(Buffer.from(encodeBatchRequest(...args)), Buffer.from(expected), name);
  }
});
