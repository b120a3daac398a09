import type { FromFunction_InvocationResponse, TypedValue } from "@switchboard/sdk/protocol";
import { FromFunction_PersistedValueMutation_MutationType as MutationType } from "@switchboard/sdk/protocol";
import type { FunctionRouter } from "../config/model.js";
import { DispatchErrors } from "../errors/dispatch-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { EgressDirectory } from "../io/egress-sink.js";
import type {
  AddressRef,
  DelayedAction,
  NewMessage,
  ResultPlan,
  StateMutation,
  StoredValue,
} from "../store/records.js";
import { formatAddress, joinTypename } from "./address.js";
import type { StateRegistry } from "./state-registry.js";

export type { DelayedAction, ResultPlan, StateMutation } from "../store/records.js";

export interface PlanContext {
  readonly registry: StateRegistry;
  readonly router: FunctionRouter;
  readonly egress: EgressDirectory;
  readonly now: number;
}

/**
 * Checks a whole result before anything is written: every target routable, every egress
 * known and its record acceptable, every mutation against a registered state of the right
 * type. Throws on the first problem, so an invalid result is rejected whole.
 */
export function planResult(
  self: AddressRef,
  response: FromFunction_InvocationResponse,
  context: PlanContext,
): ResultPlan {
  const outgoing = response.outgoingMessages.map((message, index) =>
    toNewMessage(self, message.target, message.argument, `outgoing message ${index}`, context),
  );

  const delayed = response.delayedInvocations.map((delayed, index): DelayedAction => {
    const where = `delayed message ${index}`;
    if (delayed.isCancellationRequest) {
      if (!delayed.cancellationToken) {
        throw invalid(DispatchErrors.BAD_DELAYED_MESSAGE, self, `${where} cancels with an empty token`);
      }
      return { kind: "cancel", token: delayed.cancellationToken };
    }
    const delayMs = Number(delayed.delayInMs);
    if (!Number.isFinite(delayMs) || delayMs < 0) {
      throw invalid(
        DispatchErrors.BAD_DELAYED_MESSAGE,
        self,
        `${where} has a negative delay (${delayed.delayInMs} ms)`,
      );
    }
    const message = toNewMessage(self, delayed.target, delayed.argument, where, context);
    return {
      kind: "schedule",
      timer: {
        sender: self,
        ...(delayed.cancellationToken ? { token: delayed.cancellationToken } : {}),
        dueAt: context.now + delayMs,
        message,
      },
    };
  });

  const egress = response.outgoingEgresses.map((record, index) => {
    const id = joinTypename(record.egressNamespace, record.egressType);
    const sink = context.egress.get(id);
    if (!sink) {
      throw invalid(
        DispatchErrors.UNKNOWN_EGRESS,
        self,
        `egress message ${index} names egress ${id}, which is not configured`,
      );
    }
    return sink.accept(toStoredValue(record.argument));
  });

  const mutations = response.stateMutations.map((mutation): StateMutation => {
    const spec = context.registry.find(self.fn, mutation.stateName);
    if (!spec) {
      throw invalid(
        DispatchErrors.UNKNOWN_STATE,
        self,
        `the result mutates state "${mutation.stateName}", which is not registered for ${self.fn}`,
      );
    }
    if (mutation.mutationType === MutationType.DELETE) return { kind: "delete", spec };
    if (mutation.mutationType !== MutationType.MODIFY) {
      throw invalid(
        DispatchErrors.BAD_MUTATION,
        self,
        `state "${spec.name}" has unknown mutation type ${mutation.mutationType}`,
      );
    }
    const value = mutation.stateValue;
    if (!value) {
      throw invalid(DispatchErrors.BAD_MUTATION, self, `MODIFY of state "${spec.name}" carries no value`);
    }
    if (value.typename !== spec.typename) {
      throw invalid(
        DispatchErrors.STATE_TYPE_MISMATCH,
        self,
        `MODIFY of state "${spec.name}" has type ${value.typename}, but the state is registered as ${spec.typename}`,
      );
    }
    return { kind: "modify", spec, value: value.value };
  });

  return { outgoing, delayed, egress, mutations };
}

function toNewMessage(
  self: AddressRef,
  target: { namespace: string; type: string; id: string } | undefined,
  argument: TypedValue | undefined,
  where: string,
  context: PlanContext,
): NewMessage {
  if (!target?.namespace || !target.type) {
    throw invalid(DispatchErrors.BAD_ADDRESS, self, `${where} has no target function`);
  }
  const fn = joinTypename(target.namespace, target.type);
  if (!context.router.tryResolve(fn)) {
    throw invalid(DispatchErrors.UNKNOWN_FUNCTION, self, `${where} targets ${fn}, which no endpoint serves`);
  }
  return { target: { fn, id: target.id }, caller: self, argument: toStoredValue(argument) };
}

function toStoredValue(value: TypedValue | undefined): StoredValue {
  return {
    typename: value?.typename ?? "",
    hasValue: value?.hasValue ?? false,
    value: value?.value ?? new Uint8Array(0),
  };
}

function invalid(
  definition: (typeof DispatchErrors)[keyof typeof DispatchErrors],
  self: AddressRef,
  message: string,
) {
  return new SwitchboardError(definition, `invalid result from ${formatAddress(self)}: ${message}`, {
    address: formatAddress(self),
  });
}
