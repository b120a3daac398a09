import { fromBinary } from "@bufbuild/protobuf";
import {
  BooleanWrapperSchema,
  DoubleWrapperSchema,
  FloatWrapperSchema,
  IntWrapperSchema,
  LongWrapperSchema,
  StringWrapperSchema,
} from "@switchboard/sdk/protocol";

/** A stored value as the admin API shows it. */
export interface ValueView {
  readonly typename: string;
  readonly bytes: number;
  /** How `value` was obtained: a built-in type, JSON, or raw bytes in base64. */
  readonly encoding: "builtin" | "json" | "base64" | "omitted";
  readonly value?: unknown;
}

/** Values larger than this are described but not returned. */
const MAX_SHOWN_BYTES = 64 * 1024;

const BUILTINS: Record<string, (bytes: Uint8Array) => unknown> = {
  "io.statefun.types/bool": (bytes) => fromBinary(BooleanWrapperSchema, bytes).value,
  "io.statefun.types/int": (bytes) => fromBinary(IntWrapperSchema, bytes).value,
  // A string keeps every digit of a 64-bit value; JSON numbers would not.
  "io.statefun.types/long": (bytes) => fromBinary(LongWrapperSchema, bytes).value.toString(),
  "io.statefun.types/float": (bytes) => fromBinary(FloatWrapperSchema, bytes).value,
  "io.statefun.types/double": (bytes) => fromBinary(DoubleWrapperSchema, bytes).value,
  "io.statefun.types/string": (bytes) => fromBinary(StringWrapperSchema, bytes).value,
};

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes built-in StateFun types and JSON (any typename whose bytes are UTF-8 JSON, as the
 * SDK's jsonType writes them); anything else is shown as base64.
 */
export function viewValue(typename: string, bytes: Uint8Array): ValueView {
  const size = bytes.length;
  if (size > MAX_SHOWN_BYTES) return { typename, bytes: size, encoding: "omitted" };
  const builtin = BUILTINS[typename];
  if (builtin) {
    try {
      return { typename, bytes: size, encoding: "builtin", value: builtin(bytes) };
    } catch {
      // Not what the typename promises: fall through to raw bytes.
    }
  } else if (size > 0) {
    try {
      return { typename, bytes: size, encoding: "json", value: JSON.parse(utf8.decode(bytes)) };
    } catch {
      // Not JSON: raw bytes.
    }
  }
  return { typename, bytes: size, encoding: "base64", value: Buffer.from(bytes).toString("base64") };
}
