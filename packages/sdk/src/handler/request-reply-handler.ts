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
    const declared = spec.specs ?? [];

    const sent = new Map(batch.state.map((value) => [value.stateName, value.stateValue]));
    const missing = declared.filter((value) => !sent.has(value.name));
    if (missing.length > 0) return incompleteContext(missing);

    const values = new Map<string, Uint8Array | undefined>();
    for (const value of declared) {
      const typed = sent.get(value.name);
      if (typed?.hasValue && typed.typename !== value.type.typename) {
        throw new SdkError(
          SdkErrors.STATE_TYPE_MISMATCH,
          `state "${value.name}" of ${typename} arrived as ${typed.typename}, but is declared as ${value.type.typename}`,
        );
      }
      values.set(value.name, typed?.hasValue ? typed.value : undefined);
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
