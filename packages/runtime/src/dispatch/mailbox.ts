import type { AddressRef, StoredMessage } from "../store/records.js";

/**
 * One address in dispatch. Its messages stay in the store; the mailbox counts them and keeps
 * at most one batch in flight. Everything that arrives meanwhile is sent as the next batch,
 * read from the store when the reply has been applied.
 */
export class Mailbox {
  /** Stored messages not in flight. Exact for every seq up to `countedThrough`. */
  queued = 0;
  /** The highest seq counted in `queued` (or read into a batch). */
  countedThrough = 0;
  inFlight: readonly StoredMessage[] | undefined;
  /** Cancels the batch in flight (the endpoint went down, or stop ran out of time). */
  abort: AbortController | undefined;
  /** Ingress messages admitted but not yet committed; they count against back-pressure. */
  reserved = 0;
  /** Waiting for a global in-flight slot. */
  waitingForSlot = false;
  /** This address's next batch is the probe of an endpoint that is down. */
  probe = false;
  /** Consecutive failed batches; 0 when healthy. */
  failures = 0;
  /** While suspended, no batch is sent before this time (epoch ms). */
  retryAt = 0;
  retryTimer: NodeJS.Timeout | undefined;
  lastError: { code: string; message: string } | undefined;

  constructor(readonly address: AddressRef) {}

  /** Counts a newly stored message, once, however often it is reported. */
  counted(seq: number): void {
    if (seq <= this.countedThrough) return;
    this.queued++;
    this.countedThrough = seq;
  }

  /** Accounts for a batch just read from the store (oldest first). */
  took(batch: readonly StoredMessage[], limit: number): void {
    if (batch.length < limit) {
      // Everything stored was read: nothing is left, whatever the count said.
      this.queued = 0;
    } else {
      let alreadyCounted = 0;
      for (const message of batch) if (message.seq <= this.countedThrough) alreadyCounted++;
      this.queued = Math.max(0, this.queued - alreadyCounted);
    }
    const last = batch.at(-1)?.seq ?? 0;
    if (last > this.countedThrough) this.countedThrough = last;
  }

  get idle(): boolean {
    return this.inFlight === undefined && this.queued === 0 && !this.waitingForSlot && this.reserved === 0;
  }

  get suspended(): boolean {
    return this.failures > 0;
  }
}
