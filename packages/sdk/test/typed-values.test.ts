import assert from "node:assert/strict";
import { test } from "node:test";
import { BOOL, customType, DOUBLE, FLOAT, INT, jsonType, LONG, STRING, valueSpec } from "@switchboard/sdk";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

test("built-in values encode as StateFun's wrapper messages", () => {
  assert.equal(hex(INT.serialize(7)), "0d07000000", "int is sfixed32");
  assert.equal(hex(LONG.serialize(7n)), "090700000000000000", "long is sfixed64");
  assert.equal(hex(BOOL.serialize(true)), "0801");
  assert.equal(hex(STRING.serialize("hi")), "0a026869");
  assert.equal(hex(FLOAT.serialize(1.5)), "0d0000c03f");
  assert.equal(hex(DOUBLE.serialize(1.5)), "09000000000000f83f");
});

test("zero values encode to zero bytes and decode back", () => {
  assert.equal(INT.serialize(0).length, 0);
  assert.equal(STRING.serialize("").length, 0);
  assert.equal(BOOL.serialize(false).length, 0);
  assert.equal(INT.deserialize(new Uint8Array(0)), 0);
  assert.equal(LONG.deserialize(new Uint8Array(0)), 0n);
});

test("built-in values round trip, negative and large ones included", () => {
  assert.equal(INT.deserialize(INT.serialize(-123456)), -123456);
  assert.equal(LONG.deserialize(LONG.serialize(2n ** 62n)), 2n ** 62n);
  assert.equal(STRING.deserialize(STRING.serialize("héllo ✓")), "héllo ✓");
  assert.throws(() => INT.serialize(2 ** 31), RangeError);
});

test("JSON and custom types carry the typename the user chose", () => {
  const cart = jsonType<{ items: string[] }>("example/Cart");
  assert.equal(cart.typename, "example/Cart");
  assert.deepEqual(cart.deserialize(cart.serialize({ items: ["a"] })), { items: ["a"] });
  const upper = customType<string>(
    "example/Upper",
    (v) => Buffer.from(v.toUpperCase()),
    (b) => Buffer.from(b).toString(),
  );
  assert.equal(upper.deserialize(upper.serialize("abc")), "ABC");
  assert.throws(() => jsonType("no-namespace"), /not a typename/);
});

test("value specs follow StateFun's naming rules and refuse two TTL modes", () => {
  assert.equal(valueSpec("seen_count", INT).name, "seen_count");
  assert.throws(() => valueSpec("Seen", INT), { code: "SB_SDK_INVALID_DEFINITION" });
  assert.throws(() => valueSpec("1st", INT), { code: "SB_SDK_INVALID_DEFINITION" });
  assert.throws(() => valueSpec("x", INT, { expireAfterCall: 10, expireAfterWrite: 10 }), {
    code: "SB_SDK_INVALID_DEFINITION",
  });
  assert.throws(() => valueSpec("x", INT, { expireAfterWrite: -1 }), { code: "SB_SDK_INVALID_DEFINITION" });
});
