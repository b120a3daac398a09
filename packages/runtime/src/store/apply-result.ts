import type { AddressRef, ExpireMode, ResultPlan, StateSpec, StoredMessage } from "./records.js";
import { ExpireMode as Mode } from "./records.js";
import type { Store } from "./store.js";

const NO_EGRESS: ReadonlySet<string> = new Set();

export interface CommittedResult {
  /** Outgoing messages as stored, to hand to their mailboxes once durable. */
  readonly outgoing: StoredMessage[];
  /** Earliest due time among new delayed messages, if any. */
  readonly earliestTimer?: number;
  /** Egress ids that received records. */
  readonly egressIds: ReadonlySet<string>;
}

/**
 * Writes a planned result, in StateFun's order: outgoing messages, delayed messages and
 * cancellations (in list order), egress, state mutations; then refreshes AFTER_INVOKE
 * expiry and deletes the consumed batch (by seq). Must run inside ONE commit unit, so it applies wholly or
 * not at all.
 */
export function commitResult(
  store: Store,
  self: AddressRef,
  plan: ResultPlan,
  consumed: readonly number[],
  specs: readonly StateSpec[],
  now: number,
): CommittedResult {
  const outgoing =
    plan.outgoing.length === 0 ? [] : plan.outgoing.map((message) => store.messages.insert(message, now));

  let earliestTimer: number | undefined;
  for (const action of plan.delayed) {
    if (action.kind === "cancel") {
      store.timers.cancel(self, action.token);
    } else {
      store.timers.schedule(action.timer);
      earliestTimer = Math.min(earliestTimer ?? Number.POSITIVE_INFINITY, action.timer.dueAt);
    }
  }

  const egressIds = plan.egress.length === 0 ? NO_EGRESS : new Set<string>();
  for (const record of plan.egress) {
    store.egress.insert(record, now);
    (egressIds as Set<string>).add(record.egress);
  }

  const mutated = new Set<string>();
  for (const mutation of plan.mutations) {
    mutated.add(mutation.spec.name);
    if (mutation.kind === "delete") store.state.delete(self, mutation.spec.name);
    else store.state.put(self, mutation.spec.name, mutation.value, expiryOf(mutation.spec, now));
  }

  // Every invocation carries every registered state, so each one counts as a read.
  for (const spec of specs) {
    if (spec.expireMode === Mode.AFTER_INVOKE && !mutated.has(spec.name)) {
      store.state.touch(self, spec.name, now + spec.expireAfterMs, now);
    }
  }

  for (const seq of consumed) store.messages.delete(seq);

  return { outgoing, ...(earliestTimer !== undefined ? { earliestTimer } : {}), egressIds };
}

function expiryOf(spec: { expireMode: ExpireMode; expireAfterMs: number }, now: number): number | null {
  if (spec.expireMode === Mode.NONE || spec.expireAfterMs <= 0) return null;
  return now + spec.expireAfterMs;
}
