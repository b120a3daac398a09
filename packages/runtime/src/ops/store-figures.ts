import type { StoreBackend } from "../store/contract.js";
import { ThrottledRead } from "./throttled-read.js";

/** The store counts the read-outs show. */
export interface StoreCounts {
  /** Egress records in the durable outbox, not yet delivered. */
  readonly egressPending: number;
  readonly deadLetters: number;
}

/**
 * The outbox and dead-letter counts for /metrics and /api/overview. A count reads a whole
 * table (on PostgreSQL, shared by the cluster), so it runs at most once a second, whoever
 * asks and however often: a scrape takes the last counts and never waits for the store
 * (`latest`), the overview waits only when they are older than that (`fresh`), and callers
 * arriving during a recount share it.
 */
export class StoreFigures {
  private readonly counts: ThrottledRead<StoreCounts>;

  constructor(store: StoreBackend, clock: () => number = Date.now) {
    this.counts = new ThrottledRead(
      async () => {
        const [egressPending, deadLetters] = await Promise.all([
          store.egress.count(),
          store.deadLetters.count(),
        ]);
        return { egressPending, deadLetters };
      },
      { egressPending: 0, deadLetters: 0 },
      // A closed store keeps its last counts: shutting down is no reason to report zero.
      { clock, canRead: () => store.isOpen },
    );
  }

  /** The last counts, at once; starts a recount in the background when they are stale. */
  latest(): StoreCounts {
    return this.counts.latest();
  }

  /** Counts at most a second old: waits for a recount (the one running, if any) when they are older. */
  fresh(): Promise<StoreCounts> {
    return this.counts.fresh();
  }
}
