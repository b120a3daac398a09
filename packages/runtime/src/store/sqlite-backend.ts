import { commitResult } from "./apply-result.js";
import type {
  AppliedResult,
  BatchRead,
  BatchReadRequest,
  DeadLetterStore,
  EgressStore,
  MessageStore,
  ResultWrite,
  SpecStore,
  StateStore,
  StoreBackend,
  StoreStats,
  SuspensionStore,
  TimerStore,
} from "./contract.js";
import type { AddressRef, DeadLetter, StateSpec, StoredMessage } from "./records.js";
import type { Store } from "./store.js";

/**
 * The embedded SQLite store behind the store contract. Reads are synchronous underneath;
 * every write is one unit of the store's group commit (one transaction and one fsync per
 * turn of the event loop), settling once durable. One instance owns everything, so nothing
 * is fenced.
 */
export class SqliteBackend implements StoreBackend {
  readonly kind = "sqlite" as const;
  readonly soleWriter = true;
  readonly messages: MessageStore;
  readonly state: StateStore;
  readonly specs: SpecStore;
  readonly suspensions: SuspensionStore;
  readonly deadLetters: DeadLetterStore;
  readonly timers: TimerStore;
  readonly egress: EgressStore;

  constructor(private readonly store: Store) {
    const { commits } = store;
    this.messages = {
      // One INSERT: atomic on its own, so it skips the per-unit savepoint.
      accept: (message, now) => commits.submitStatement(() => store.messages.insert(message, now)),
      acceptBounded: (message, now, maxWaiting) =>
        commits.submitStatement(() => {
          const waitingBefore = store.messages.countFor(message.target).count;
          return waitingBefore < maxWaiting
            ? { message: store.messages.insert(message, now), waitingBefore }
            : undefined;
        }),
      count: async (address) => store.messages.countFor(address),
      head: async (address, limit) => store.messages.headOf(address, limit),
      pageAfter: async (afterSeq, limit) => store.messages.pageAfter(afterSeq, limit),
      pageAfterSkipping: async (afterSeq, limit, skipTypes) =>
        store.messages.pageAfterSkipping(afterSeq, limit, skipTypes),
      nextIdWithMessages: async (fn, afterId) => store.messages.nextIdWithMessages(fn, afterId),
    };
    this.state = {
      read: async (address, now) => store.state.read(address, now),
      purgeExpired: (now) => commits.submitStatement(() => store.state.purgeExpired(now)),
    };
    this.specs = {
      register: (fn: string, specs: readonly StateSpec[], now: number) =>
        commits.submit(() => {
          for (const spec of specs) store.specs.insert(fn, spec, now);
        }),
      all: async () => store.specs.all(),
    };
    this.suspensions = {
      upsert: (suspension) => commits.submitStatement(() => store.suspensions.upsert(suspension)),
      all: async () => store.suspensions.all(),
    };
    this.deadLetters = {
      moveBacklog: (address: AddressRef, error, now) =>
        commits.submit(() => {
          const letters: DeadLetter[] = [];
          for (const message of store.messages.forAddress(address)) {
            const seq = store.deadLetters.insert(message, error, now);
            store.messages.delete(message.seq);
            letters.push({
              seq,
              message,
              errorCode: error.code,
              errorMessage: error.message,
              deadLetteredAt: now,
            });
          }
          store.suspensions.delete(address);
          return letters;
        }),
      reinject: (seq, now) =>
        commits.submit(() => {
          const letter = store.deadLetters.get(seq);
          if (!letter) return undefined;
          const { target, caller, argument } = letter.message;
          const stored = store.messages.insert({ target, ...(caller ? { caller } : {}), argument }, now);
          store.deadLetters.delete(seq);
          return stored;
        }),
      drop: (seq) => commits.submitStatement(() => store.deadLetters.delete(seq)),
      get: async (seq) => store.deadLetters.get(seq),
      list: async (afterSeq, limit, address) => store.deadLetters.list(afterSeq, limit, address),
      count: async () => store.deadLetters.count(),
    };
    this.timers = {
      nextDueAt: async () => store.timers.nextDueAt(),
      fireDue: (now, limit) => {
        const due = store.timers.due(now, limit);
        if (due.length === 0) return Promise.resolve([]);
        return commits.submit(() => {
          const fired: StoredMessage[] = [];
          for (const timer of due) {
            // A cancellation may have committed since `due` was read: fire only what is pending.
            if (store.timers.deleteIfPending(timer.seq))
              fired.push(store.messages.insert(timer.message, now));
          }
          return fired;
        });
      },
      sentBy: async (address) => store.timers.forSender(address),
      aimedAt: async (address) => store.timers.forTarget(address),
      count: async () => store.timers.count(),
    };
    this.egress = {
      // A record read here may be committed but not yet on disk (the WAL fsync runs after the
      // commit): it is handed out only once the fsync covering its commit is done.
      pending: async (egress, afterSeq, limit) => {
        const records = store.egress.pending(egress, afterSeq, limit);
        if (records.length > 0) await commits.whenDurable();
        return records;
      },
      delete: (seq) => commits.submitStatement(() => store.egress.delete(seq)),
      // Read and delete in one unit: two concurrent pops never return the same record.
      pop: (egress, topic) =>
        commits.submit(() => {
          const record = store.egress.oldest(egress, topic);
          if (record) store.egress.delete(record.seq);
          return record;
        }),
      count: async () => store.egress.count(),
    };
  }

  async readBatch({ address, limit, now, withCount }: BatchReadRequest): Promise<BatchRead> {
    // Synchronous reads back to back: no write can come between them.
    const { messages, state } = this.store;
    return {
      messages: messages.headOf(address, limit),
      state: state.read(address, now),
      ...(withCount ? { count: messages.countFor(address) } : {}),
    };
  }

  observeCommits(listener: (groupSize: number, seconds: number) => void): void {
    this.store.commits.onCommit = listener;
  }

  applyResult(write: ResultWrite): Promise<AppliedResult> {
    const { store } = this;
    return store.commits.submit(() => {
      const result = commitResult(store, write.address, write.plan, write.consumed, write.specs, write.now);
      if (write.clearSuspension) store.suspensions.delete(write.address);
      return result;
    });
  }

  get isOpen(): boolean {
    return this.store.isOpen;
  }

  stats(): StoreStats {
    return this.store.commits.stats();
  }

  async close(): Promise<void> {
    this.store.close();
  }
}
