import { create } from "@bufbuild/protobuf";
import { type ToFunction, ToFunctionSchema } from "@switchboard/sdk/protocol";
import { splitTypename } from "../dispatch/address.js";
import type { AddressRef, StateSpec, StateValue, StoredMessage } from "../store/records.js";

function toProtocolAddress(address: AddressRef): { namespace: string; type: string; id: string } {
  const parts = splitTypename(address.fn);
  return { namespace: parts?.namespace ?? "", type: parts?.name ?? address.fn, id: address.id };
}

/**
 * Builds the InvocationBatchRequest for one address: every registered state (with its value
 * when present and live, as a bare name otherwise) and every message of the batch in order.
 */
export function buildBatchRequest(
  target: AddressRef,
  specs: readonly StateSpec[],
  values: ReadonlyMap<string, StateValue>,
  batch: readonly StoredMessage[],
): ToFunction {
  return create(ToFunctionSchema, {
    request: {
      case: "invocation",
      value: {
        target: toProtocolAddress(target),
        state: specs.map((spec) => {
          const live = values.get(spec.name);
          return live
            ? {
                stateName: spec.name,
                stateValue: { typename: spec.typename, hasValue: true, value: live.value },
              }
            : { stateName: spec.name };
        }),
        invocations: batch.map((message) => ({
          ...(message.caller ? { caller: toProtocolAddress(message.caller) } : {}),
          argument: {
            typename: message.argument.typename,
            hasValue: message.argument.hasValue,
            value: message.argument.value,
          },
        })),
      },
    },
  });
}
