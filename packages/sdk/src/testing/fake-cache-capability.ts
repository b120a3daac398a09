/**
 * The fake cache as a WebTestHost capability: its `cache.*` host calls answered in memory,
 * with each invocation's Data handles, and its flights released when the invocation ends,
 * as the host's worker pool does.
 */
import { createFakeCache, type FakeCache, type FakeCacheOptions } from "./fake-cache.js";
import type { TestCapability, TestHostCall, TestInvocation } from "./test-capability.js";

export interface FakeCacheCapability extends TestCapability {
  /** The fake itself: inspect `size`, `flights`, or `clear()` it between tests. */
  readonly cache: FakeCache;
}

export function fakeCacheCapability(options: Omit<FakeCacheOptions, "data"> = {}): FakeCacheCapability {
  // The fake numbers invocations; the test host names them. Live ones map both ways.
  const numbers = new Map<string, number>();
  const stores = new Map<number, TestInvocation["data"]>();
  let next = 1;
  const numberOf = (invocation: TestInvocation): number => {
    let id = numbers.get(invocation.invocationId);
    if (id === undefined) {
      id = next++;
      numbers.set(invocation.invocationId, id);
      stores.set(id, invocation.data);
    }
    return id;
  };
  const storeOf = (id: number): TestInvocation["data"] => {
    const store = stores.get(id);
    if (!store) throw new Error(`invocation ${id} is over: its Data handles are gone`);
    return store;
  };
  const cache = createFakeCache({
    ...options,
    data: {
      read: (id, invocation) => storeOf(invocation).read(id),
      put: (bytes, invocation) => storeOf(invocation).put(bytes),
    },
  });
  const hostCalls: Record<string, TestHostCall> = {};
  for (const op of cache.ops)
    hostCalls[op] = (args, invocation) => cache.call(op, args, numberOf(invocation));
  return {
    cache,
    hostCalls,
    ended(invocationId) {
      const id = numbers.get(invocationId);
      if (id === undefined) return;
      cache.invocationEnded(id);
      numbers.delete(invocationId);
      stores.delete(id);
    },
  };
}
