import { create, toBinary } from "@bufbuild/protobuf";
import type { Address } from "../../api/address.js";
import type { EgressMessage, OutgoingMessage } from "../../api/outgoing.js";
import type { ValueSpec } from "../../api/value-spec.js";
import {
  FromFunctionSchema,
  FromFunction_PersistedValueMutation_MutationType as MutationType,
} from "../../protocol/index.js";
import type { DelayedEffect } from "../batch-context.js";
import { ProtobufWriter } from "./protobuf-writer.js";

/** A state's final value after a batch; undefined bytes mean deleted. */
export interface StateChange {
  readonly spec: ValueSpec<unknown>;
  readonly bytes: Uint8Array | undefined;
}

/** FromFunction{invocation_result} for a batch's effects, in call order. */
export function encodeInvocationResult(
  changes: readonly StateChange[],
  messages: readonly OutgoingMessage[],
  delayed: readonly DelayedEffect[],
  egress: readonly EgressMessage[],
): Uint8Array {
  return (
    encodeByHand(changes, messages, delayed, egress) ?? encodeGenerically(changes, messages, delayed, egress)
  );
}

/**
 * Writes the result by hand: the same bytes the generated codec writes for the message
 * encodeGenerically creates (fields in number order, proto3 defaults left out), in a tenth of
 * the time. Returns undefined when a value is not of the type the protocol expects (a
 * hand-built message whose typename is not a string, a custom type returning something other
 * than bytes, a delay beyond 2^53 ms...): the generated codec then encodes it, or fails,
 * exactly as before.
 */
export function encodeByHand(
  changes: readonly StateChange[],
  messages: readonly OutgoingMessage[],
  delayed: readonly DelayedEffect[],
  egress: readonly EgressMessage[],
): Uint8Array | undefined {
  // One scratch buffer, reused: encoding is synchronous. A nested call (a getter on a value
  // encoding another result) gets its own.
  const writer = idle ?? new ProtobufWriter();
  idle = undefined;
  try {
    writer.reset();
    if (!writeResult(writer, changes, messages, delayed, egress)) return undefined;
    return writer.finish();
  } finally {
    idle = writer;
  }
}

let idle: ProtobufWriter | undefined = new ProtobufWriter();

// FromFunction.invocation_result is field 100: its tag takes two bytes, a2 06.
const RESULT_TAG_0 = 0xa2;
const RESULT_TAG_1 = 0x06;
const F1_VARINT = 0x08;
const F1_LEN = 0x0a;
const F2_VARINT = 0x10;
const F2_LEN = 0x12;
const F3_LEN = 0x1a;
const F4_LEN = 0x22;
const F10_VARINT = 0x50;
const F11_LEN = 0x5a;
const MODIFY = 1;

function writeResult(
  writer: ProtobufWriter,
  changes: readonly StateChange[],
  messages: readonly OutgoingMessage[],
  delayed: readonly DelayedEffect[],
  egress: readonly EgressMessage[],
): boolean {
  writer.byte(RESULT_TAG_0);
  writer.byte(RESULT_TAG_1);
  writer.fork();
  // InvocationResponse: 1 state_mutations, 2 outgoing_messages, 3 delayed_invocations, 4 outgoing_egresses.
  for (const { spec, bytes } of changes) {
    writer.byte(F1_LEN);
    writer.fork();
    if (bytes === undefined) {
      // DELETE is the enum's zero: not written.
      if (!writer.string(F2_LEN, spec.name)) return false;
    } else {
      writer.byte(F1_VARINT);
      writer.byte(MODIFY);
      if (!writer.string(F2_LEN, spec.name)) return false;
      writer.byte(F3_LEN);
      writer.fork();
      if (!writer.string(F1_LEN, spec.type.typename)) return false;
      writer.byte(F2_VARINT);
      writer.byte(1);
      if (!writer.bytes(F3_LEN, bytes)) return false;
      writer.join();
    }
    writer.join();
  }
  for (const message of messages) {
    writer.byte(F2_LEN);
    writer.fork();
    if (!writeAddress(writer, F1_LEN, message.target)) return false;
    if (!writeTypedValue(writer, F2_LEN, message.argument)) return false;
    writer.join();
  }
  for (const effect of delayed) {
    writer.byte(F3_LEN);
    writer.fork();
    // DelayedInvocation, in field number order: 1 delay_in_ms, 2 target, 3 argument,
    // 10 is_cancellation_request, 11 cancellation_token.
    const token = effect.cancellationToken ?? "";
    if (effect.cancel) {
      writer.byte(F10_VARINT);
      writer.byte(1);
    } else {
      const delayMs = effect.delayMs;
      if (!Number.isSafeInteger(delayMs) || delayMs < 0) return false;
      if (delayMs !== 0) {
        writer.byte(F1_VARINT);
        writer.varint(delayMs);
      }
      const message = effect.message;
      if (message) {
        if (!writeAddress(writer, F2_LEN, message.target)) return false;
        if (!writeTypedValue(writer, F3_LEN, message.argument)) return false;
      }
    }
    if (!writer.string(F11_LEN, token)) return false;
    writer.join();
  }
  for (const record of egress) {
    const name = record.egress;
    if (typeof name !== "string") return false;
    const slash = name.lastIndexOf("/");
    writer.byte(F4_LEN);
    writer.fork();
    if (!writer.string(F1_LEN, name.slice(0, slash))) return false;
    if (!writer.string(F2_LEN, name.slice(slash + 1))) return false;
    if (!writeTypedValue(writer, F3_LEN, record.argument)) return false;
    writer.join();
  }
  writer.join();
  return true;
}

/** An Address message (namespace, type, id) from the SDK's Address (namespace, name, id). */
function writeAddress(
  writer: ProtobufWriter,
  tag: number,
  address: OutgoingMessage["target"] | undefined,
): boolean {
  if (typeof address !== "object" || address === null) return false;
  writer.byte(tag);
  writer.fork();
  if (!writer.string(F1_LEN, address.namespace)) return false;
  if (!writer.string(F2_LEN, address.name)) return false;
  if (!writer.string(F3_LEN, address.id)) return false;
  writer.join();
  return true;
}

/** A TypedValue; an absent one is not written, as the generated codec leaves an unset field out. */
function writeTypedValue(
  writer: ProtobufWriter,
  tag: number,
  value: OutgoingMessage["argument"] | undefined,
): boolean {
  if (value === undefined || value === null) return true;
  // A generated message may carry unknown fields the generated codec would write back.
  if (typeof value !== "object" || "$typeName" in value) return false;
  if (typeof value.hasValue !== "boolean") return false;
  writer.byte(tag);
  writer.fork();
  if (!writer.string(F1_LEN, value.typename)) return false;
  if (value.hasValue) {
    writer.byte(F2_VARINT);
    writer.byte(1);
  }
  if (!writer.bytes(F3_LEN, value.value)) return false;
  writer.join();
  return true;
}

function toAddress(address: Address) {
  return { namespace: address.namespace, type: address.name, id: address.id };
}

/** The result through the generated codec: what the SDK did for every result before encodeByHand. */
export function encodeGenerically(
  changes: readonly StateChange[],
  messages: readonly OutgoingMessage[],
  delayed: readonly DelayedEffect[],
  egress: readonly EgressMessage[],
): Uint8Array {
  return toBinary(
    FromFunctionSchema,
    create(FromFunctionSchema, {
      response: {
        case: "invocationResult",
        value: {
          stateMutations: changes.map(({ spec, bytes }) =>
            bytes === undefined
              ? { mutationType: MutationType.DELETE, stateName: spec.name }
              : {
                  mutationType: MutationType.MODIFY,
                  stateName: spec.name,
                  stateValue: { typename: spec.type.typename, hasValue: true, value: bytes },
                },
          ),
          outgoingMessages: messages.map((message) => ({
            target: toAddress(message.target),
            argument: message.argument,
          })),
          delayedInvocations: delayed.map((delayed) =>
            delayed.cancel
              ? { isCancellationRequest: true, cancellationToken: delayed.cancellationToken ?? "" }
              : {
                  delayInMs: BigInt(delayed.delayMs),
                  cancellationToken: delayed.cancellationToken ?? "",
                  ...(delayed.message
                    ? { target: toAddress(delayed.message.target), argument: delayed.message.argument }
                    : {}),
                },
          ),
          outgoingEgresses: egress.map((egress) => {
            const slash = egress.egress.lastIndexOf("/");
            return {
              egressNamespace: egress.egress.slice(0, slash),
              egressType: egress.egress.slice(slash + 1),
              argument: egress.argument,
            };
          }),
        },
      },
    }),
  );
}
