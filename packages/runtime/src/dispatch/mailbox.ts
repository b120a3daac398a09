import type { MessageCount } from "../store/contract.js";
import type { AddressRef, StoredMessage } from "../store/records.js";
import type { Cancellation } from "../transport/cancellation.js";
import { addressKey } from "./address.js";
import type { HeldMessages } from "./held-messages.js";

/** An address keeps at most this many messages in hand (StateFun's default batch limit). */
const MAX_KNOWN_PER_ADDRESS = 1000;

/**
 * One address in dispatch. Its messages stay in the store; the mailbox counts them and keeps
 * at most one batch in flight. Everything that arrives meanwhile is sent as the next batch,
 * read from the store when the reply has been applied, or taken from the copies it holds
 * (`known`) when it has seen every one of them arrive.
 */
export class Mailbox {
  /** Stored messages not in flight. Exact for every seq up to `countedThrough`. */
  queued = 0;
  /** The highest seq counted in `queued` (or read into a batch). */
  countedThrough = 0;
  inFlight: readonly StoredMessage[] | undefined;
  /** Cancels the batch in flight (the endpoint went down, or stop ran out of time). */
  abort: Cancellation | undefined;
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
  /**
   * Every stored message of this address not in flight, oldest first, while the mailbox has
   * seen each one arrive: the next batch is taken from here instead of read back. Only where
   * this instance alone writes the store (`held` given). Undefined when not known: the next
   * batch is then read from the store, and a read that leaves nothing behind makes it known
   * again. When defined, its length is `queued`.
   */
  known: StoredMessage[] | undefined;
  /** Seqs reported while a store read of this address is under way; undefined when none is. */
  private seenWhileReading: number[] | undefined;

  constructor(
    readonly address: AddressRef,
    private readonly held?: HeldMessages,
    /** The address's key in dispatch's maps, made once. */
    readonly key: string = addressKey(address),
  ) {}

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
    // Counted without its content: the copies in hand are no longer the whole backlog.
    this.forgetKnown();
  }

  /** A newly stored message, with its content: counted, and kept in hand while the backlog is known. */
  arrived(message: StoredMessage): void {
    if (this.known && message.seq <= this.countedThrough) {
      // Reported after a newer message, or after a store read that already took it. The two
      // cannot be told apart here, so the next batch is read, and counted, from the store.
      this.forgetKnown();
      this.uncounted = true;
      if (this.queued === 0) this.queued = 1;
      return;
    }
    if (!this.known) {
      this.counted(message.seq);
      return;
    }
    this.queued++;
    this.countedThrough = message.seq;
    if (this.known.length < MAX_KNOWN_PER_ADDRESS && this.held?.take(message)) this.known.push(message);
    else this.forgetKnown();
  }

  /** Taken into memory with `message`, which the store says is the address's only one. */
  startKnown(message: StoredMessage): void {
    this.queued = 1;
    this.countedThrough = message.seq;
    this.uncounted = false;
    this.forgetKnown();
    if (this.held?.take(message)) this.known = [message];
  }

  /** The next batch from the messages in hand (`known` must be defined). */
  takeKnown(limit: number): StoredMessage[] {
    const known = this.known as StoredMessage[];
    const batch = known.length <= limit ? known : known.slice(0, limit);
    this.known = known.length <= limit ? [] : known.slice(limit);
    this.queued -= batch.length;
    this.held?.give(batch);
    return batch;
  }

  /** A batch taken from the store's backlog was not consumed: it counts as queued again. */
  putBack(batch: readonly StoredMessage[]): void {
    this.queued += batch.length;
    this.forgetKnown();
  }

  /** Lets the copies in hand go; batches are read from the store until it is known again. */
  forgetKnown(): void {
    if (!this.known) return;
    this.held?.give(this.known);
    this.known = undefined;
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
    this.knowIfEmpty();
  }

  /** The store read with the batch counted the whole backlog (the batch's messages included). */
  countedBatchRead(batch: readonly StoredMessage[], count: MessageCount): void {
    const seen = this.finishReading();
    this.queued = Math.max(0, count.count - batch.length) + seen.filter((seq) => seq > count.lastSeq).length;
    this.countedThrough = Math.max(this.countedThrough, count.lastSeq, ...seen);
    this.uncounted = false;
    this.knowIfEmpty();
  }

  /** A read left nothing behind: every message from now on is seen arriving. */
  private knowIfEmpty(): void {
    if (this.held && this.queued === 0) this.known = [];
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
