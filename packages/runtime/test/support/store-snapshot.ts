import type { StoreBackend } from "../../src/store/contract.js";
import type { AddressRef } from "../../src/store/records.js";

/**
 * Everything a backend reads back about `addresses` and `egressIds`, through the store
 * contract only, as plain JSON (bytes as hex, maps as objects): two backends holding the same
 * data give deeply equal snapshots.
 */
export async function snapshotBackend(
  backend: StoreBackend,
  addresses: readonly AddressRef[],
  egressIds: readonly string[],
  now: number,
): Promise<unknown> {
  const perAddress: Record<string, unknown> = {};
  for (const address of addresses) {
    perAddress[`${address.fn}/${address.id}`] = {
      count: await backend.messages.count(address),
      head: await backend.messages.head(address, 1000),
      state: await backend.state.read(address, now),
      timersSent: await backend.timers.sentBy(address),
      timersAimed: await backend.timers.aimedAt(address),
    };
  }
  const egress: Record<string, unknown> = {};
  for (const id of egressIds) egress[id] = await backend.egress.pending(id, 0, 1000);
  return plain({
    perAddress,
    backlog: await backend.messages.pageAfter(0, 1000),
    specs: await backend.specs.all(),
    nextDueAt: await backend.timers.nextDueAt(),
    timers: await backend.timers.count(),
    egress,
    egressCount: await backend.egress.count(),
    suspensions: await backend.suspensions.all(),
    deadLetters: await backend.deadLetters.list(0, 1000),
    deadLetterCount: await backend.deadLetters.count(),
  });
}

function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, item: unknown) => {
      if (item instanceof Uint8Array) return Buffer.from(item).toString("hex");
      // Buffer's toJSON runs before the replacer sees it.
      if (isBufferJson(item)) return Buffer.from(item.data).toString("hex");
      if (item instanceof Map) return Object.fromEntries(item);
      return item;
    }),
  );
}

function isBufferJson(item: unknown): item is { type: "Buffer"; data: number[] } {
  return (
    typeof item === "object" &&
    item !== null &&
    (item as { type?: unknown }).type === "Buffer" &&
    Array.isArray((item as { data?: unknown }).data)
  );
}
