import type { Type } from "./type.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A JSON type under a typename you choose (`namespace/Name`), UTF-8 JSON on the wire. */
export function jsonType<T>(typename: string): Type<T> {
  assertTypename(typename);
  return {
    typename,
    serialize: (value) => encoder.encode(JSON.stringify(value)),
    deserialize: (bytes) => JSON.parse(decoder.decode(bytes)) as T,
  };
}

/** A type with your own serializer and deserializer. */
export function customType<T>(
  typename: string,
  serialize: (value: T) => Uint8Array,
  deserialize: (bytes: Uint8Array) => T,
): Type<T> {
  assertTypename(typename);
  return { typename, serialize, deserialize };
}

function assertTypename(typename: string): void {
  const slash = typename.lastIndexOf("/");
  if (slash <= 0 || slash === typename.length - 1) {
    throw new TypeError(`"${typename}" is not a typename: expected namespace/name`);
  }
}
