/**
 * A protocol-level test function: it answers ToFunction requests the way a StateFun SDK
 * does (missing state -> IncompleteInvocationContext; otherwise run every invocation with
 * state carried over), but its behaviour per invocation is a plain callback, so tests can
 * make it send messages, timers, egress or broken results.
 */
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import {
  type FromFunction,
  type FromFunction_DelayedInvocationSchema,
  type FromFunction_EgressMessageSchema,
  FromFunction_ExpirationSpec_ExpireMode,
  type FromFunction_InvocationSchema,
  FromFunction_PersistedValueMutation_MutationType,
  type FromFunction_PersistedValueMutationSchema,
  FromFunctionSchema,
  IntWrapperSchema,
  type ToFunction,
  type ToFunction_Invocation,
} from "@switchboard/sdk/protocol";

export const INT = "io.statefun.types/int";

export interface DeclaredState {
  readonly name: string;
  readonly typename: string;
  readonly expireAfterWriteMs?: number;
  readonly expireAfterInvokeMs?: number;
}

export interface Effects {
  messages: Array<MessageInitShape<typeof FromFunction_InvocationSchema>>;
  delayed: Array<MessageInitShape<typeof FromFunction_DelayedInvocationSchema>>;
  egress: Array<MessageInitShape<typeof FromFunction_EgressMessageSchema>>;
  extraMutations: Array<MessageInitShape<typeof FromFunction_PersistedValueMutationSchema>>;
}

export type Behaviour = (
  state: Map<string, Uint8Array | undefined>,
  invocation: ToFunction_Invocation,
  effects: Effects,
) => void;

export interface SeenRequest {
  readonly stateNames: string[];
  readonly stateValues: Map<string, Uint8Array | undefined>;
  readonly invocations: number;
}

export function encodeInt(value: number): Uint8Array {
  return toBinary(IntWrapperSchema, create(IntWrapperSchema, { value }));
}

export function decodeInt(bytes: Uint8Array | undefined): number {
  return bytes ? fromBinary(IntWrapperSchema, bytes).value : 0;
}

/** Increments int state "count" once per invocation. */
export const countInvocations: Behaviour = (state) => {
  state.set("count", encodeInt(decodeInt(state.get("count")) + 1));
};

/**
 * Counts int state "count" per message, each message's int argument being the count it makes
 * (1, 2, ...); a message arriving out of order is recorded in `violations`.
 */
export function orderedCounter(violations: string[]): Behaviour {
  return (state, invocation) => {
    const count = decodeInt(state.get("count"));
    const value = decodeInt(invocation.argument?.value);
    if (value !== count + 1) violations.push(`${invocation.caller?.id ?? ""} got ${value} after ${count}`);
    state.set("count", encodeInt(count + 1));
  };
}

export class ProtocolFunction {
  readonly seen: SeenRequest[] = [];

  constructor(
    private readonly declared: readonly DeclaredState[],
    private readonly behaviour: Behaviour = countInvocations,
  ) {}

  handle(request: ToFunction): FromFunction {
    if (request.request.case !== "invocation") throw new Error("not an invocation request");
    const batch = request.request.value;
    const sent = new Map<string, Uint8Array | undefined>();
    for (const value of batch.state)
      sent.set(value.stateName, value.stateValue?.hasValue ? value.stateValue.value : undefined);
    this.seen.push({
      stateNames: [...sent.keys()],
      stateValues: new Map(sent),
      invocations: batch.invocations.length,
    });

    const missing = this.declared.filter((spec) => !sent.has(spec.name));
    if (missing.length > 0) {
      return create(FromFunctionSchema, {
        response: {
          case: "incompleteInvocationContext",
          value: {
            missingValues: missing.map((spec) => ({
              stateName: spec.name,
              typeTypename: spec.typename,
              expirationSpec: spec.expireAfterWriteMs
                ? {
                    mode: FromFunction_ExpirationSpec_ExpireMode.AFTER_WRITE,
                    expireAfterMillis: BigInt(spec.expireAfterWriteMs),
                  }
                : spec.expireAfterInvokeMs
                  ? {
                      mode: FromFunction_ExpirationSpec_ExpireMode.AFTER_INVOKE,
                      expireAfterMillis: BigInt(spec.expireAfterInvokeMs),
                    }
                  : { mode: FromFunction_ExpirationSpec_ExpireMode.NONE },
            })),
          },
        },
      });
    }

    const state = new Map(sent);
    const effects: Effects = { messages: [], delayed: [], egress: [], extraMutations: [] };
    for (const invocation of batch.invocations) this.behaviour(state, invocation, effects);

    const mutations: Array<MessageInitShape<typeof FromFunction_PersistedValueMutationSchema>> = [];
    for (const spec of this.declared) {
      const before = sent.get(spec.name);
      const after = state.get(spec.name);
      if (after === before) continue;
      mutations.push(
        after === undefined
          ? { mutationType: FromFunction_PersistedValueMutation_MutationType.DELETE, stateName: spec.name }
          : {
              mutationType: FromFunction_PersistedValueMutation_MutationType.MODIFY,
              stateName: spec.name,
              stateValue: { typename: spec.typename, hasValue: true, value: after },
            },
      );
    }
    return create(FromFunctionSchema, {
      response: {
        case: "invocationResult",
        value: {
          stateMutations: [...mutations, ...effects.extraMutations],
          outgoingMessages: effects.messages,
          delayedInvocations: effects.delayed,
          outgoingEgresses: effects.egress,
        },
      },
    });
  }
}
