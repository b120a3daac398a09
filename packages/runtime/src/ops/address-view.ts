import { endpointLabel } from "../config/endpoint-label.js";
import { formatAddress } from "../dispatch/address.js";
import type { SuspendedAddress } from "../dispatch/dispatcher.js";
import type { AddressRef, StoredMessage, StoredTimer, Suspension } from "../store/records.js";
import type { AdminContext } from "./admin-context.js";
import { viewValue } from "./value-view.js";

/** The whole backlog: an operator looking at an address sees every message it waits on. */
const WHOLE_BACKLOG = Number.MAX_SAFE_INTEGER;
/** Dead letters counted per address (the view shows how many, up to this). */
const DEAD_LETTERS_COUNTED = 1000;

/**
 * Everything the runtime holds for one address: state, backlog, timers, suspension. In a
 * cluster, what only memory knows (a batch in flight, the live suspension) is the owner's:
 * on another instance (the owner could not be asked) `inFlight` is null and the suspension
 * is the one its owner last stored.
 */
export async function addressView(
  context: AdminContext,
  address: AddressRef,
  now = Date.now(),
): Promise<unknown> {
  const { store, dispatcher, router, cluster } = context;
  const here = !cluster || cluster.owns(address);
  const resolved = router.tryResolve(address.fn);
  const specs = dispatcher.registeredSpecs().get(address.fn) ?? [];
  // Independent reads: on a networked store they overlap instead of queueing.
  const partition = cluster?.partitionOf(address);
  const [values, backlog, sent, incoming, deadLetters, stored, owner] = await Promise.all([
    store.state.read(address, now),
    store.messages.head(address, WHOLE_BACKLOG),
    store.timers.sentBy(address),
    store.timers.aimedAt(address),
    store.deadLetters.list(0, DEAD_LETTERS_COUNTED, address),
    here ? undefined : store.suspensions.all(),
    // Unknown when the database cannot say now: the view still shows what the store holds.
    here || partition === undefined ? undefined : cluster?.ownerOf(partition).catch(() => undefined),
  ]);
  const key = formatAddress(address);
  const suspension = here
    ? dispatcher.suspendedAddresses().find((entry) => entry.address === key)
    : storedSuspension(
        stored?.find((entry) => formatAddress(entry.address) === key),
        backlog.length,
      );
  return {
    address: key,
    function: address.fn,
    id: address.id,
    ...(cluster ? { partition, owner: here ? cluster.instanceId : (owner?.instanceId ?? null) } : {}),
    endpoint: resolved ? { name: endpointLabel(resolved.endpoint), url: resolved.url } : null,
    inFlight: here ? dispatcher.isInFlight(address) : null,
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
    backlog: backlog.map(messageView),
    timers: {
      sent: sent.map(timerView),
      incoming: incoming.map(timerView),
    },
    suspension: suspension ?? null,
    deadLetters: deadLetters.length,
  };
}

/** A suspension as its owner stored it, shaped like the owner's live one. */
function storedSuspension(suspension: Suspension | undefined, backlog: number): SuspendedAddress | undefined {
  if (!suspension) return undefined;
  return {
    address: formatAddress(suspension.address),
    failures: suspension.failures,
    retryAt: suspension.retryAt,
    backlog,
    lastError: { code: suspension.errorCode, message: suspension.errorMessage },
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
