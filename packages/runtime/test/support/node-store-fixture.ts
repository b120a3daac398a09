import type { StoreBackend } from "../../src/store/contract.js";
import {
  type AddressRef,
  ExpireMode,
  type NewMessage,
  type ResultPlan,
  type StateSpec,
} from "../../src/store/records.js";
import { SqliteBackend } from "../../src/store/sqlite-backend.js";
import { Store } from "../../src/store/store.js";

/**
 * A single node's embedded store with something in every table, written through the store
 * contract as a running node would: what `store import` must carry into a cluster.
 */

const bytes = (text: string) => new TextEncoder().encode(text);

export const QUEUED: readonly AddressRef[] = [
  { fn: "shop/cart", id: "alice" },
  { fn: "shop/cart", id: "bob" },
  { fn: "shop/stock", id: "sku-1" },
];
/** Has state (with and without TTL), a pending timer and produced an egress record. */
export const STATEFUL: AddressRef = { fn: "shop/counter", id: "c1" };
export const SUSPENDED: AddressRef = { fn: "shop/flaky", id: "f1" };
export const DEAD: AddressRef = { fn: "shop/flaky", id: "f2" };
export const TIMER_TARGET: AddressRef = { fn: "shop/reminder", id: "r1" };
export const EGRESS_ID = "shop/out";
export const EGRESS_TOPIC = "orders";
export const ALL_ADDRESSES: readonly AddressRef[] = [...QUEUED, STATEFUL, SUSPENDED, DEAD, TIMER_TARGET];

export const PLAIN: StateSpec = {
  name: "total",
  typename: "shop/int",
  expireMode: ExpireMode.NONE,
  expireAfterMs: 0,
};
export const WITH_TTL: StateSpec = {
  name: "session",
  typename: "shop/text",
  expireMode: ExpireMode.AFTER_WRITE,
  expireAfterMs: 3_600_000,
};

function message(target: AddressRef, body: string, caller?: AddressRef): NewMessage {
  return {
    target,
    ...(caller ? { caller } : {}),
    argument: { typename: "shop/text", hasValue: true, value: bytes(body) },
  };
}

/**
 * Writes the fixture into `dataDir` (a new data directory) and closes the store. Some rows
 * are consumed or delivered on the way, so the node's highest seqs lie above what is left.
 */
export async function writeNodeStore(dataDir: string, now = Date.now()): Promise<void> {
  const backend = new SqliteBackend(Store.open(dataDir, "normal"));
  try {
    await fill(backend, now);
  } finally {
    await backend.close();
  }
}

async function fill(backend: StoreBackend, now: number): Promise<void> {
  // A message consumed before the copy: its seq is gone, the node's high-water is not.
  const consumed = await backend.messages.accept(message(STATEFUL, "consumed"), now - 50);
  // Interleaved across addresses, some with a caller, one without a value.
  for (let round = 0; round < 3; round++) {
    for (const [index, address] of QUEUED.entries()) {
      await backend.messages.accept(
        message(address, `${address.id}-${round}`, index === 1 ? STATEFUL : undefined),
        now - 40 + round,
      );
    }
  }
  await backend.messages.accept(
    {
      target: QUEUED[0] as AddressRef,
      argument: { typename: "shop/empty", hasValue: false, value: new Uint8Array(0) },
    },
    now - 30,
  );
  await backend.specs.register(STATEFUL.fn, [PLAIN, WITH_TTL], now - 20);
  const plan: ResultPlan = {
    outgoing: [message(QUEUED[2] as AddressRef, "from-counter", STATEFUL)],
    delayed: [
      {
        kind: "schedule",
        timer: {
          sender: STATEFUL,
          token: "remind-1",
          dueAt: now + 86_400_000,
          message: message(TIMER_TARGET, "later", STATEFUL),
        },
      },
      {
        kind: "schedule",
        timer: {
          sender: STATEFUL,
          dueAt: now + 172_800_000,
          message: message(TIMER_TARGET, "even-later", STATEFUL),
        },
      },
    ],
    egress: [
      { egress: EGRESS_ID, topic: EGRESS_TOPIC, typename: "shop/order", value: bytes("delivered-already") },
      { egress: EGRESS_ID, topic: EGRESS_TOPIC, typename: "shop/order", value: bytes("pending-1") },
      { egress: EGRESS_ID, topic: EGRESS_TOPIC, typename: "shop/order", value: bytes("pending-2") },
    ],
    mutations: [
      { kind: "modify", spec: PLAIN, value: bytes("42") },
      { kind: "modify", spec: WITH_TTL, value: bytes("token-xyz") },
    ],
  };
  await backend.applyResult({
    address: STATEFUL,
    plan,
    consumed: [consumed.seq],
    specs: [PLAIN, WITH_TTL],
    clearSuspension: false,
    now: now - 10,
  });
  // The first record was delivered: gone, but its seq was handed out (an Idempotency-Key).
  const [delivered] = await backend.egress.pending(EGRESS_ID, 0, 1);
  if (delivered) await backend.egress.delete(delivered.seq);

  const failure = { code: "SB_DISPATCH_FUNCTION_FAILED", message: "endpoint answered 500" };
  await backend.messages.accept(message(SUSPENDED, "stuck-1"), now - 9);
  await backend.messages.accept(message(SUSPENDED, "stuck-2"), now - 8);
  await backend.suspensions.upsert({
    address: SUSPENDED,
    failures: 3,
    errorCode: failure.code,
    errorMessage: failure.message,
    suspendedAt: now - 7,
    retryAt: now + 60_000,
  });
  await backend.messages.accept(message(DEAD, "dead-1"), now - 6);
  await backend.messages.accept(message(DEAD, "dead-2", SUSPENDED), now - 5);
  await backend.suspensions.upsert({
    address: DEAD,
    failures: 5,
    errorCode: failure.code,
    errorMessage: failure.message,
    suspendedAt: now - 4,
    retryAt: now + 60_000,
  });
  await backend.deadLetters.moveBacklog(DEAD, failure, now - 3);
}
