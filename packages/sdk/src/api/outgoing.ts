import { create, toBinary } from "@bufbuild/protobuf";
import { KafkaProducerRecordSchema, KinesisEgressRecordSchema } from "../protocol/index.js";
import { STRING } from "../types/builtin-types.js";
import type { Type } from "../types/type.js";
import { type Address, address } from "./address.js";
import { type TypedValue, typedValue } from "./message.js";

/** A message to another function. */
export interface OutgoingMessage {
  readonly target: Address;
  readonly argument: TypedValue;
}

/** A record for an egress, named `namespace/type`. */
export interface EgressMessage {
  readonly egress: string;
  readonly argument: TypedValue;
}

/** Builds a message to `typename`/`id`; strings need no type, anything else names one. */
export function messageBuilder<T>(options: {
  typename: string;
  id: string;
  value: T;
  valueType?: Type<T>;
}): OutgoingMessage {
  return {
    target: address(options.typename, options.id),
    argument: toTypedValue(options.value, options.valueType),
  };
}

/** Builds a record for the egress `typename` (e.g. `io.statefun.playground/egress`). */
export function egressMessageBuilder<T>(options: {
  typename: string;
  value: T;
  valueType?: Type<T>;
}): EgressMessage {
  address(options.typename, "-"); // validates the typename
  return { egress: options.typename, argument: toTypedValue(options.value, options.valueType) };
}

/** A record for StateFun's playground egress (and Switchboard's), `{topic, payload}` JSON. */
export function playgroundEgressMessage(topic: string, payload: unknown): EgressMessage {
  return {
    egress: "io.statefun.playground/egress",
    argument: {
      typename: "io.statefun.playground/EgressRecord",
      hasValue: true,
      value: new TextEncoder().encode(JSON.stringify({ topic, payload })),
    },
  };
}

const encoder = new TextEncoder();

function bytesOf(value: string | Uint8Array): Uint8Array {
  return typeof value === "string" ? encoder.encode(value) : value;
}

/** A KafkaProducerRecord for a Kafka egress. */
export function kafkaEgressMessage(options: {
  typename: string;
  topic: string;
  key?: string;
  value: string | Uint8Array;
}): EgressMessage {
  const record = create(KafkaProducerRecordSchema, {
    topic: options.topic,
    key: options.key ?? "",
    valueBytes: bytesOf(options.value),
  });
  return {
    egress: options.typename,
    argument: {
      typename: "type.googleapis.com/io.statefun.sdk.egress.KafkaProducerRecord",
      hasValue: true,
      value: toBinary(KafkaProducerRecordSchema, record),
    },
  };
}

/** A KinesisEgressRecord for a Kinesis egress. */
export function kinesisEgressMessage(options: {
  typename: string;
  stream: string;
  partitionKey: string;
  explicitHashKey?: string;
  value: string | Uint8Array;
}): EgressMessage {
  const record = create(KinesisEgressRecordSchema, {
    stream: options.stream,
    partitionKey: options.partitionKey,
    explicitHashKey: options.explicitHashKey ?? "",
    valueBytes: bytesOf(options.value),
  });
  return {
    egress: options.typename,
    argument: {
      typename: "type.googleapis.com/io.statefun.sdk.egress.KinesisEgressRecord",
      hasValue: true,
      value: toBinary(KinesisEgressRecordSchema, record),
    },
  };
}

function toTypedValue<T>(value: T, type: Type<T> | undefined): TypedValue {
  if (type) return typedValue(type, value);
  if (typeof value === "string") return typedValue(STRING, value);
  throw new TypeError("give a valueType for values that are not strings");
}
