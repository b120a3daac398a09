/**
 * The StateFun request-reply wire protocol: generated message types and schemas, plus the
 * two codecs every peer needs. Both the SDK (function side) and the runtime (caller side)
 * import from here, so there is exactly one definition of the wire format.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type FromFunction,
  FromFunctionSchema,
  type ToFunction,
  ToFunctionSchema,
} from "./gen/io/statefun/sdk/reqreply/request-reply_pb.js";

export * from "./gen/io/statefun/sdk/egress/egress_pb.js";
export * from "./gen/io/statefun/sdk/reqreply/request-reply_pb.js";
export * from "./gen/io/statefun/sdk/types/types_pb.js";

/** The only content type either side of the protocol sends. */
export const PROTOCOL_CONTENT_TYPE = "application/octet-stream";

export function encodeToFunction(message: ToFunction): Uint8Array {
  return toBinary(ToFunctionSchema, message);
}

/** Throws on bytes that are not a valid ToFunction encoding. */
export function decodeToFunction(bytes: Uint8Array): ToFunction {
  return fromBinary(ToFunctionSchema, bytes);
}

export function encodeFromFunction(message: FromFunction): Uint8Array {
  return toBinary(FromFunctionSchema, message);
}

/**
 * Throws on bytes that are not a valid FromFunction encoding. A zero-byte body decodes to a
 * FromFunction with no response set, which the protocol defines as "no side effects".
 */
export function decodeFromFunction(bytes: Uint8Array): FromFunction {
  if (bytes.length === 0) return create(FromFunctionSchema);
  return fromBinary(FromFunctionSchema, bytes);
}
