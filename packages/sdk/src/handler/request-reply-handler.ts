import { create, toBinary } from "@bufbuild/protobuf";
import type { Address } from "../api/address.js";
import { Message } from "../api/message.js";
import type { ValueSpec } from "../api/value-spec.js";
import { SdkError, SdkErrors } from "../errors.js";
import {
  FromFunction_ExpirationSpec_ExpireMode as ExpireMode,
  FromFunctionSchema,
} from "../protocol/index.js";
import type { StatefulFunctions } from "../registry.js";
import { AddressStorage } from "./address-storage.js";
import { BatchContext } from "./batch-context.js";
import { decodeInvocationBatch } from "./wire/decode-invocation-batch.js";
import { encodeInvocationResult } from "./wire/encode-invocation-result.js";
import type { InvocationBatch, WireTypedValue } from "./wire/invocation-batch.js";

/**
 * StateFun's request-reply protocol, independent of HTTP: bytes of a ToFunction in, bytes
 * of a FromFunction out. Adapters (node:http, fetch) and Switchboard's embedded host call it.
 * Throws SdkError for requests it cannot serve; the adapters map those to HTTP statuses.
 */
export class RequestReplyHandler {
  constructor(private readonly functions: StatefulFunctions) {}

  async handle(bytes: Uint8Array): Promise<Uint8Array> {
    if (bytes.length === 0)
      throw new SdkError(SdkErrors.EMPTY_BODY, "the request body is empty; expected a ToFunction message");
    const batch = decodeInvocationBatch(bytes);
    const target = batch.target;
    const typename = `${target?.namespace ?? ""}/${target?.type ?? ""}`;
    const spec = this.functions.get(typename);
    if (!spec || !target)
      throw new SdkError(SdkErrors.UNKNOWN_FUNCTION, `no function is registered for ${typename}`);
    const declared = spec.specs ?? NO_STATE;

    const sent = sentValues(batch.state, declared);
    if (sent === undefined) return incompleteContext(missingValues(batch.state, declared));
    const values = new Array<Uint8Array | undefined>(declared.length);
    for (let i = 0; i < declared.length; i++) {
      const value = declared[i] as ValueSpec<unknown>;
      const typed = sent[i];
      if (typed?.hasValue && typed.typename !== value.type.typename) {
        throw new SdkError(
          SdkErrors.STATE_TYPE_MISMATCH,
          `state "${value.name}" of ${typename} arrived as ${typed.typename}, but is declared as ${value.type.typename}`,
        );
      }
      values[i] = typed?.hasValue ? typed.value : undefined;
    }

    const self: Address = { namespace: target.namespace, name: target.type, id: target.id, typename };
    const storage = new AddressStorage(declared, values);
    const context = new BatchContext(self, storage);
    for (const invocation of batch.invocations) {
      const caller = invocation.caller;
      context.caller = caller
        ? {
            namespace: caller.namespace,
            name: caller.type,
            id: caller.id,
            typename: `${caller.namespace}/${caller.type}`,
          }
        : undefined;
      const argument = invocation.argument ?? { typename: "", hasValue: false, value: new Uint8Array(0) };
      try {
        await spec.fn(context, new Message(argument));
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new SdkError(SdkErrors.FUNCTION_FAILED, `${typename}/${self.id} failed: ${reason}`, {
          cause: error,
        });
      }
    }
    return encodeInvocationResult(storage.changes(), context.messages, context.delayed, context.egress);
  }
}

const NO_STATE: readonly ValueSpec<unknown>[] = [];

/** Above this many states sent, names are looked up in a Map rather than by scanning. */
const SCAN_LIMIT = 16;

/**
 * The value sent for each declared state, in declaration order (undefined: sent without a
 * value), or undefined when any declared state was not sent at all. A name sent twice counts
 * once, its last value. A short list is scanned: cheaper than building a Map per request.
 */
function sentValues(
  state: InvocationBatch["state"],
  declared: readonly ValueSpec<unknown>[],
): Array<WireTypedValue | undefined> | undefined {
  const values = new Array<WireTypedValue | undefined>(declared.length);
  if (state.length > SCAN_LIMIT) {
    const byName = new Map(state.map((value) => [value.stateName, value]));
    for (let i = 0; i < declared.length; i++) {
      const found = byName.get((declared[i] as ValueSpec<unknown>).name);
      if (found === undefined) return undefined;
      values[i] = found.stateValue;
    }
    return values;
  }
  for (let i = 0; i < declared.length; i++) {
    const name = (declared[i] as ValueSpec<unknown>).name;
    let at = state.length - 1;
    while (at >= 0 && (state[at] as InvocationBatch["state"][number]).stateName !== name) at--;
    if (at < 0) return undefined;
    values[i] = (state[at] as InvocationBatch["state"][number]).stateValue;
  }
  return values;
}

function missingValues(
  state: InvocationBatch["state"],
  declared: readonly ValueSpec<unknown>[],
): ValueSpec<unknown>[] {
  const names = new Set(state.map((value) => value.stateName));
  return declared.filter((value) => !names.has(value.name));
}

function incompleteContext(missing: readonly ValueSpec<unknown>[]): Uint8Array {
  return toBinary(
    FromFunctionSchema,
    create(FromFunctionSchema, {
      response: {
        case: "incompleteInvocationContext",
        value: {
          missingValues: missing.map((value) => ({
            stateName: value.name,
            typeTypename: value.type.typename,
            expirationSpec:
              value.expireAfterCall !== undefined
                ? { mode: ExpireMode.AFTER_INVOKE, expireAfterMillis: BigInt(value.expireAfterCall) }
                : value.expireAfterWrite !== undefined
                  ? { mode: ExpireMode.AFTER_WRITE, expireAfterMillis: BigInt(value.expireAfterWrite) }
                  : { mode: ExpireMode.NONE },
          })),
        },
      },
    }),
  );
}
