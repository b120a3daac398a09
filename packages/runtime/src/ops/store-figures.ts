import type { StoreBackend } from "../store/contract.js";

/** The store counts the read-outs show. */
export interface StoreCounts {
  /** Egress records in the durable outbox, not yet delivered. */
  readonly egressPending: number;
  readonly deadLetters: number;
}

/** How old the counts may get before a read-out starts a recount. */
const RECOUNT_AFTER_MS = 1000;

/**
 * The outbox and dead-letter counts for /metrics and /api/overview. A count reads a whole
 * table (on PostgreSQL, shared by the cluster), so it runs at most once a second, whoever
 * asks and however often: a scrape takes the last counts and never waits for the store
 * (`latest`), the overview waits only when they are older than that (`fresh`), and callers
 * arriving during a recount share it.
 */
export class StoreFigures {
  private last: StoreCounts = { egressPending: 0, deadLetters: 0 };
  private countedAt = Number.NEGATIVE_INFINITY;
  private counting: Promise<StoreCounts> | undefined;

  constructor(
    private readonly store: StoreBackend,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The last counts, at once; starts a recount in the background when they are stale. */
  latest(): StoreCounts {
    void this.recount();
    return this.last;
  }

  /** Counts at most a second old: waits for a recount (the one running, if any) when they are older. */
  fresh(): Promise<StoreCounts> {
    return this.recount();
  }

  private recount(): Promise<StoreCounts> {
    if (this.counting) return this.counting;
    // A closed store keeps its last counts: shutting down is no reason to report zero.
    if (this.clock() - this.countedAt < RECOUNT_AFTER_MS || !this.store.isOpen) {
      return Promise.resolve(this.last);
    }
    this.countedAt = this.clock();
    this.counting = Promise.all([this.store.egress.count(), this.store.deadLetters.count()])
      .then(
        ([egressPending, deadLetters]) => {
          this.last = { egressPending, deadLetters };
          return this.last;
        },
        // A failed count keeps the last one; the next recount is a second away.
        () => this.last,
      )
      .finally(() => {
        this.counting = undefined;
      });
    return this.counting;
  }
}
