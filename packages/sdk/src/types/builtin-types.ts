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

/** sfixed32: 7 encodes as 0d 07 00 00 00. */
export const INT: Type<number> = {
  typename: "io.statefun.types/int",
  serialize: (value) => {
    if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
      throw new RangeError(`${value} is not a 32-bit integer (io.statefun.types/int)`);
    }
    return toBinary(IntWrapperSchema, create(IntWrapperSchema, { value }));
  },
  deserialize: (bytes) => fromBinary(IntWrapperSchema, bytes).value,
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
