import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { INT } from "@switchboard/sdk";
import { IntWrapperSchema } from "@switchboard/sdk/protocol";

// The SDK writes and reads its hottest encodings by hand. These tests hold the hand-written
// paths to the generated codec: same bytes out, same values (or the same failure) in.

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** The generated codec's answer, or the message it failed with. */
function generated<T>(run: () => T): { value: T } | { error: string } {
  try {
    return { value: run() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

test("int values encode to the generated codec's bytes, edges included", () => {
  const next = random(1);
  const values = [0, -0, 1, -1, 7, 255, 256, -256, 2 ** 31 - 1, -(2 ** 31)];
  for (let i = 0; i < 2000; i++) values.push(Math.floor(next() * 2 ** 32) - 2 ** 31);
  for (const value of values) {
    const expected = toBinary(IntWrapperSchema, create(IntWrapperSchema, { value }));
    const actual = INT.serialize(value);
    assert.equal(hex(actual), hex(expected), `int ${value}`);
    assert.equal(actual.constructor, Uint8Array);
    assert.equal(INT.deserialize(actual), value === 0 ? 0 : value);
  }
});

test("int bytes decode as the generated codec decodes them, or fail as it fails", () => {
  const next = random(2);
  const inputs: Uint8Array[] = [
    new Uint8Array([0x0d, 1, 2, 3]), // truncated
    new Uint8Array([0x08, 7, 0, 0, 0]), // field 1 with another wire type
    new Uint8Array([0x0d, 1, 0, 0, 0, 0x0d, 2, 0, 0, 0]), // repeated: the last one wins
    new Uint8Array([0x15, 1, 0, 0, 0]), // unknown field 2 only
  ];
  for (let i = 0; i < 3000; i++) {
    const bytes = new Uint8Array(Math.floor(next() * 8));
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(next() * 256);
    if (next() < 0.5 && bytes.length > 0) bytes[0] = 0x0d;
    inputs.push(bytes);
  }
  for (const bytes of inputs) {
    const expected = generated(() => fromBinary(IntWrapperSchema, bytes).value);
    const actual = generated(() => INT.deserialize(bytes));
    assert.deepEqual(actual, expected, hex(bytes));
  }
});
