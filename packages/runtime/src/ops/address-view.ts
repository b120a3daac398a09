import { endpointLabel } from "../config/endpoint-label.js";
import { formatAddress } from "../dispatch/address.js";
import type { AddressRef, StoredMessage, StoredTimer } from "../store/records.js";
import type { AdminContext } from "./admin-context.js";
import { viewValue } from "./value-view.js";

/** Everything the runtime holds for one address: state, backlog, timers, suspension. */
export function addressView(context: AdminContext, address: AddressRef, now = Date.now()): unknown {
  const { store, dispatcher, router } = context;
  const resolved = router.tryResolve(address.fn);
  const specs = dispatcher.registeredSpecs().get(address.fn) ?? [];
  const values = store.state.read(address, now);
  const suspension = dispatcher
    .suspendedAddresses()
    .find((entry) => entry.address === formatAddress(address));
  return {
    address: formatAddress(address),
    function: address.fn,
    id: address.id,
    endpoint: resolved ? { name: endpointLabel(resolved.endpoint), url: resolved.url } : null,
    inFlight: dispatcher.isInFlight(address),
    state: specs.map((spec) => {
      const live = values.get(spec.name);
      return {
        name: spec.name,
        typename: spec.typename,
        expireMode: spec.expireMode,
        expireAfterMs: spec.expireAfterMs,
        ...(live
          ? { present: true, expiresAt: live.expiresAt, ...pick(viewValue(spec.typename, live.value)) }
          : { present: false }),
      };
    }),
    backlog: store.messages.forAddress(address).map(messageView),
    timers: {
      sent: store.timers.forSender(address).map(timerView),
      incoming: store.timers.forTarget(address).map(timerView),
    },
    suspension: suspension ?? null,
    deadLetters: store.deadLetters.list(0, 1000, address).length,
  };
}

export function messageView(message: StoredMessage): unknown {
  return {
    seq: message.seq,
    target: formatAddress(message.target),
    caller: message.caller ? formatAddress(message.caller) : null,
    acceptedAt: message.acceptedAt,
    argument: message.argument.hasValue
      ? viewValue(message.argument.typename, message.argument.value)
      : { typename: message.argument.typename, bytes: 0, encoding: "omitted" },
  };
}

function timerView(timer: StoredTimer): unknown {
  return {
    seq: timer.seq,
    sender: formatAddress(timer.sender),
    target: formatAddress(timer.message.target),
    token: timer.token ?? null,
    dueAt: timer.dueAt,
    typename: timer.message.argument.typename,
  };
}

function pick(view: ReturnType<typeof viewValue>): Record<string, unknown> {
  return {
    bytes: view.bytes,
    encoding: view.encoding,
    ...(view.value !== undefined ? { value: view.value } : {}),
  };
}
