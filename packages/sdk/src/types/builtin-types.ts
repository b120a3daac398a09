import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  BooleanWrapperSchema,
  DoubleWrapperSchema,
  FloatWrapperSchema,
  IntWrapperSchema,
  LongWrapperSchema,
  StringWrapperSchema,
} from "../protocol/index.js";
import type { Type } from "./type.js";

// Each built-in value is the serialized wrapper message whose field 1 holds it, exactly as
// StateFun defines them. proto3 drops defaults, so 0, false and "" encode to zero bytes.

export const BOOL: Type<boolean> = {
  typename: "io.statefun.types/bool",
  serialize: (value) => toBinary(BooleanWrapperSchema, create(BooleanWrapperSchema, { value })),
  deserialize: (bytes) => fromBinary(BooleanWrapperSchema, bytes).value,
};

/** IntWrapper's only field: number 1, wire type 5 (32-bit). */
const SFIXED32_FIELD_1 = 0x0d;

/**
 * sfixed32: 7 encodes as 0d 07 00 00 00. Written and read by hand, byte for byte what the
 * generated codec produces: the counter's state is read and written on every invocation, and
 * the generic codec costs about a microsecond each way. Any other encoding (unknown fields, a
 * repeated field, garbage) goes through the generated codec, which accepts or rejects it as before.
 */
export const INT: Type<number> = {
  typename: "io.statefun.types/int",
  serialize: (value) => {
    if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
      throw new RangeError(`${value} is not a 32-bit integer (io.statefun.types/int)`);
    }
    if (value === 0) return new Uint8Array(0); // proto3 drops the default
    const bytes = new Uint8Array(5);
    bytes[0] = SFIXED32_FIELD_1;
    bytes[1] = value & 0xff;
    bytes[2] = (value >> 8) & 0xff;
    bytes[3] = (value >> 16) & 0xff;
    bytes[4] = (value >> 24) & 0xff;
    return bytes;
  },
  deserialize: (bytes) => {
    if (bytes.length === 0) return 0;
    if (bytes.length === 5 && bytes[0] === SFIXED32_FIELD_1) {
      return (
        (bytes[1] as number) |
        ((bytes[2] as number) << 8) |
        ((bytes[3] as number) << 16) |
        ((bytes[4] as number) << 24)
      );
    }
    return fromBinary(IntWrapperSchema, bytes).value;
  },
};

/** sfixed64, read as bigint so no precision is lost; numbers are accepted when writing. */
export const LONG: Type<bigint> = {
  typename: "io.statefun.types/long",
  serialize: (value: bigint | number) =>
    toBinary(LongWrapperSchema, create(LongWrapperSchema, { value: BigInt(value) })),
  deserialize: (bytes) => fromBinary(LongWrapperSchema, bytes).value,
};

export const FLOAT: Type<number> = {
  typename: "io.statefun.types/float",
  serialize: (value) => toBinary(FloatWrapperSchema, create(FloatWrapperSchema, { value })),
  deserialize: (bytes) => fromBinary(FloatWrapperSchema, bytes).value,
};

export const DOUBLE: Type<number> = {
  typename: "io.statefun.types/double",
  serialize: (value) => toBinary(DoubleWrapperSchema, create(DoubleWrapperSchema, { value })),
  deserialize: (bytes) => fromBinary(DoubleWrapperSchema, bytes).value,
};

export const STRING: Type<string> = {
  typename: "io.statefun.types/string",
  serialize: (value) => toBinary(StringWrapperSchema, create(StringWrapperSchema, { value })),
  deserialize: (bytes) => fromBinary(StringWrapperSchema, bytes).value,
};
