import type { MessageCount } from "../store/contract.js";
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
  /**
   * Its backlog has not been counted since it came to memory: `queued` is only a lower bound
   * until the next batch read counts it (which it asks the store to do on that read).
   */
  uncounted = false;
  /** Seqs reported while a store read of this address is under way; undefined when none is. */
  private seenWhileReading: number[] | undefined;

  constructor(readonly address: AddressRef) {}

  /** Counts a newly stored message, once, however often it is reported. */
  counted(seq: number): void {
    if (this.seenWhileReading) {
      // A store read is under way: whether it covers this message is known once it returns.
      this.seenWhileReading.push(seq);
      return;
    }
    if (seq <= this.countedThrough) return;
    this.queued++;
    this.countedThrough = seq;
  }

  /** A read of this address's messages starts; messages reported meanwhile are set aside. */
  startReading(): void {
    this.seenWhileReading = [];
  }

  get reading(): boolean {
    return this.seenWhileReading !== undefined;
  }

  /** The store returned the address's next batch (oldest first, at most `limit`). */
  batchRead(batch: readonly StoredMessage[], limit: number): void {
    const seen = this.finishReading();
    const lastRead = batch.at(-1)?.seq ?? 0;
    const arrivedAfter = seen.filter((seq) => seq > lastRead && seq > this.countedThrough).length;
    if (batch.length < limit) {
      // Everything stored when the read began was read: what is left arrived after it.
      this.queued = arrivedAfter;
    } else {
      let alreadyCounted = 0;
      for (const message of batch) if (message.seq <= this.countedThrough) alreadyCounted++;
      this.queued = Math.max(0, this.queued - alreadyCounted) + arrivedAfter;
    }
    this.countedThrough = Math.max(this.countedThrough, lastRead, ...seen);
  }

  /** The store read with the batch counted the whole backlog (the batch's messages included). */
  countedBatchRead(batch: readonly StoredMessage[], count: MessageCount): void {
    const seen = this.finishReading();
    this.queued = Math.max(0, count.count - batch.length) + seen.filter((seq) => seq > count.lastSeq).length;
    this.countedThrough = Math.max(this.countedThrough, count.lastSeq, ...seen);
    this.uncounted = false;
  }

  /** The read failed: what was counted stands, and messages reported meanwhile are counted. */
  readFailed(): void {
    for (const seq of this.finishReading()) this.counted(seq);
  }

  private finishReading(): number[] {
    const seen = this.seenWhileReading ?? [];
    this.seenWhileReading = undefined;
    return seen;
  }

  get idle(): boolean {
    return (
      this.inFlight === undefined &&
      this.queued === 0 &&
      !this.waitingForSlot &&
      this.reserved === 0 &&
      !this.reading
    );
  }

  get suspended(): boolean {
    return this.failures > 0;
  }
}
