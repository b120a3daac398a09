import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import {
  address,
  INT,
  RequestReplyHandler,
  STRING,
  StatefulFunctions,
  type Type,
  typedValue,
  type ValueSpec,
  valueSpec,
} from "@switchboard/sdk";
import { IntWrapperSchema, ToFunctionSchema, TypedValueSchema } from "@switchboard/sdk/protocol";
import { decodeByHand } from "../src/handler/wire/decode-invocation-batch.js";
import {
  encodeByHand,
  encodeGenerically,
  encodeInvocationResult,
} from "../src/handler/wire/encode-invocation-result.js";
import type { InvocationBatch, WireAddress, WireTypedValue } from "../src/handler/wire/invocation-batch.js";

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

// --- ToFunction, read by hand ---

/** Strings of the kinds the protocol carries: empty, ASCII, long, non-ASCII, astral. */
function text(next: () => number): string {
  const kind = Math.floor(next() * 7);
  const length = [0, 1, 5, 31, 33, 130, 300][Math.floor(next() * 7)] as number;
  let out = "";
  for (let i = 0; i < length; i++) {
    if (kind === 5 && i % 7 === 3) out += "é";
    else if (kind === 6 && i % 11 === 5) out += "😀";
    else out += String.fromCharCode(97 + Math.floor(next() * 26));
  }
  return out;
}

function bytesOf(next: () => number): Uint8Array {
  const length = [0, 1, 5, 127, 128, 20_000][Math.floor(next() * 6)] as number;
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(next() * 256);
  return bytes;
}

function maybe<T>(next: () => number, make: () => T): T | undefined {
  return next() < 0.75 ? make() : undefined;
}

function randomToFunction(next: () => number): Uint8Array {
  const address = () => ({ namespace: text(next), type: text(next), id: text(next) });
  const typed = () => ({ typename: text(next), hasValue: next() < 0.8, value: bytesOf(next) });
  return toBinary(
    ToFunctionSchema,
    create(ToFunctionSchema, {
      request: {
        case: "invocation",
        value: {
          target: maybe(next, address),
          state: Array.from({ length: Math.floor(next() * 4) }, () => ({
            stateName: text(next),
            stateValue: maybe(next, typed),
          })),
          invocations: Array.from({ length: Math.floor(next() * 4) }, () => ({
            caller: maybe(next, address),
            argument: maybe(next, typed),
          })),
        },
      },
    }),
  );
}

/** What the handler reads of a batch, the same for the generated message and the hand-read one. */
function readable(batch: InvocationBatch | undefined) {
  if (batch === undefined) return undefined;
  const address = (a: WireAddress | undefined) => a && { namespace: a.namespace, type: a.type, id: a.id };
  const typed = (v: WireTypedValue | undefined) =>
    v && { typename: v.typename, hasValue: v.hasValue, value: hex(v.value), isView: v.value.constructor };
  return {
    target: address(batch.target),
    state: batch.state.map((s) => ({ stateName: s.stateName, stateValue: typed(s.stateValue) })),
    invocations: batch.invocations.map((i) => ({ caller: address(i.caller), argument: typed(i.argument) })),
  };
}

function generatedBatch(bytes: Uint8Array) {
  const decoded = generated(() => fromBinary(ToFunctionSchema, bytes));
  if ("error" in decoded || decoded.value.request.case !== "invocation") return undefined;
  return decoded.value.request.value;
}

test("every ToFunction the generated codec writes is read by hand, to what the generated codec reads", () => {
  const next = random(3);
  for (let i = 0; i < 1500; i++) {
    const bytes = Buffer.from(randomToFunction(next));
    const byHand = decodeByHand(bytes);
    assert.ok(byHand, `not taken: ${hex(bytes).slice(0, 200)}`);
    assert.deepEqual(readable(byHand), readable(generatedBatch(bytes)));
  }
});

test("damaged or unusual ToFunction bytes are left to the generated codec, or read as it reads them", () => {
  const next = random(4);
  const unusual = [
    "a20600", // an empty batch
    "a206040a000a00", // target twice: the generated codec merges
    "a206041a020a00", // an invocation with an empty caller
    "a2060412040a02", // a persisted value running past the batch
    "a20606120438010a00", // unknown field 7 in a persisted value
    "a206061a0412021002", // has_value written as 2
    "a206071a0512030a01ff", // a typename that is not UTF-8
    "a206020a00a206020a00", // field 100 twice
    "0a00", // not field 100
  ].map((h) => Buffer.from(h, "hex"));
  for (let i = 0; i < 3000; i++) {
    const bytes = Buffer.from(randomToFunction(next));
    const damage = Math.floor(next() * 3);
    const at = Math.floor(next() * bytes.length);
    if (damage === 0) bytes[at] = Math.floor(next() * 256);
    unusual.push(damage === 1 ? bytes.subarray(0, at) : bytes);
  }
  let read = 0;
  for (const bytes of unusual) {
    const byHand = decodeByHand(bytes);
    if (byHand === undefined) continue;
    read++;
    assert.deepEqual(readable(byHand), readable(generatedBatch(bytes)), hex(bytes).slice(0, 200));
  }
  assert.ok(read > 0 && read < unusual.length, `read ${read} of ${unusual.length}`);
});

// --- FromFunction invocation result, written by hand ---

/** A state spec as the encoder sees it: a name and a typename, here of any text. */
function spec(name: string, typename: string): ValueSpec<unknown> {
  const type: Type<unknown> = { typename, serialize: () => new Uint8Array(0), deserialize: () => undefined };
  return { name, type };
}

function randomEffects(next: () => number) {
  const address = () => ({ namespace: text(next), name: text(next), id: text(next), typename: "-" });
  const typed = () => ({ typename: text(next), hasValue: next() < 0.8, value: bytesOf(next) });
  const changes = Array.from({ length: Math.floor(next() * 4) }, () => ({
    spec: spec(text(next), next() < 0.5 ? "io.statefun.types/int" : text(next)),
    bytes: next() < 0.3 ? undefined : bytesOf(next),
  }));
  const messages = Array.from({ length: Math.floor(next() * 3) }, () => ({
    target: address(),
    argument: typed(),
  }));
  const delayed = Array.from({ length: Math.floor(next() * 4) }, () => {
    const token = next() < 0.5 ? text(next) || "t" : undefined;
    if (next() < 0.3) return { delayMs: 0, cancel: true, cancellationToken: token ?? "t" };
    const delayMs = [0, 1, 127, 128, 1500, 2 ** 31, 2 ** 53 - 1][Math.floor(next() * 7)] as number;
    const message = next() < 0.8 ? { target: address(), argument: typed() } : undefined;
    return {
      delayMs,
      cancel: false,
      ...(message ? { message } : {}),
      ...(token ? { cancellationToken: token } : {}),
    };
  });
  const egress = Array.from({ length: Math.floor(next() * 3) }, () => ({
    egress: next() < 0.2 ? text(next) : `${text(next)}/${text(next)}`,
    argument: typed(),
  }));
  return { changes, messages, delayed, egress };
}

test("invocation results written by hand are the generated codec's bytes", () => {
  const next = random(5);
  for (let i = 0; i < 1500; i++) {
    const { changes, messages, delayed, egress } = randomEffects(next);
    const byHand = encodeByHand(changes, messages, delayed, egress);
    assert.ok(byHand, "every effect the SDK's own builders make is written by hand");
    assert.equal(byHand.constructor, Uint8Array);
    assert.equal(hex(byHand), hex(encodeGenerically(changes, messages, delayed, egress)));
  }
  const surrogate = { target: address("a/b", "\ud800x"), argument: typedValue(STRING, "\udfff") };
  assert.equal(
    hex(encodeByHand([], [surrogate], [], []) ?? new Uint8Array([0xff])),
    hex(encodeGenerically([], [surrogate], [], [])),
  );
});

test("values of the wrong type are left to the generated codec", () => {
  const target = address("a/b", "1");
  const argument = typedValue(STRING, "x");
  const cases: Array<Parameters<typeof encodeByHand>> = [
    [[{ spec: spec("n", "x/y"), bytes: "text" as never }], [], [], []],
    [[{ spec: spec("n", 7 as never), bytes: new Uint8Array(1) }], [], [], []],
    [[], [{ target, argument: { ...argument, typename: 7 as never } }], [], []],
    [[], [{ target, argument: { ...argument, hasValue: undefined as never } }], [], []],
    [[], [{ target: undefined as never, argument }], [], []],
    [[], [{ target, argument: create(TypedValueSchema, argument) }], [], []],
    [[], [], [{ delayMs: 2 ** 60, cancel: false, message: { target, argument } }], []],
    [[], [], [], [{ egress: 7 as never, argument }]],
  ];
  for (const effects of cases) assert.equal(encodeByHand(...effects), undefined);
  // The same result through the public path: the fallback encodes what it can, as before.
  assert.equal(
    hex(encodeInvocationResult([], [{ target, argument: create(TypedValueSchema, argument) }], [], [])),
    hex(encodeGenerically([], [{ target, argument }], [], [])),
  );
});

test("a request the hand reader leaves alone is served as before, through the generated codec", async () => {
  const seen = valueSpec("seen", INT);
  const handler = new RequestReplyHandler(
    new StatefulFunctions().register({
      typename: "t/counter",
      specs: [seen],
      fn: (context, message) => context.storage.set(seen, (context.storage.get(seen) ?? 0) + message.asInt()),
    }),
  );
  const request = (unknownField: boolean) => {
    const argument = create(TypedValueSchema, {
      typename: INT.typename,
      hasValue: true,
      value: INT.serialize(2),
    });
    // A field this protocol version does not know, as a newer peer might add.
    if (unknownField) argument.$unknown = [{ no: 9, wireType: WireType.Varint, data: new Uint8Array([1]) }];
    return toBinary(
      ToFunctionSchema,
      create(ToFunctionSchema, {
        request: {
          case: "invocation",
          value: {
            target: { namespace: "t", type: "counter", id: "1" },
            state: [
              {
                stateName: "seen",
                stateValue: { typename: INT.typename, hasValue: true, value: INT.serialize(1) },
              },
            ],
            invocations: [{ argument }],
          },
        },
      }),
    );
  };
  assert.equal(decodeByHand(request(true)), undefined);
  assert.ok(decodeByHand(request(false)));
  assert.equal(hex(await handler.handle(request(true))), hex(await handler.handle(request(false))));
});
