import type { AddressRow, BacklogPage } from "../store/records.js";

/** What the dispatcher made of one stored message's address. */
export type Consideration = "taken" | "skipped" | "full";

export interface BacklogScannerOptions {
  /**
   * Rows after `afterSeq`, in seq order. It may leave out rows that `consider` would skip (a
   * parked function type's); `scannedTo` then says how far the page covered.
   */
  readonly page: (afterSeq: number, limit: number) => Promise<BacklogPage>;
  /** Takes the address into dispatch, skips it (already there, or parked), or says there is no room. */
  readonly consider: (row: AddressRow) => Consideration;
  /** Whether dispatch has room for another address. */
  readonly hasRoom: () => boolean;
  readonly onError: (error: unknown) => void;
  readonly pageSize?: number;
  /** Pages read per event-loop turn before yielding to other work. */
  readonly pagesPerTurn?: number;
}

/**
 * Finds addresses with stored messages, a page at a time, in acceptance order. Dispatch
 * keeps only a bounded set of addresses in memory; everything else waits in the store, and
 * this scanner walks the messages table with a cursor to bring addresses in as room frees.
 *
 * Invariant: every message with seq <= `cursor` has been considered (or left out of its page
 * because `consider` would have skipped it), so a message is never overlooked. A newly stored
 * message is taken by dispatch on arrival when there is room, without a read, even while the
 * scanner is behind (taking an address early is harmless: it reads its own messages, oldest
 * first); when there is no room, the cursor moves back before it (`leftForLater`).
 */
export class BacklogScanner {
  private cursor = 0;
  private caughtUp = false;
  private scheduled = false;
  /** A page read is under way: only one at a time. */
  private running = false;
  /**
   * Where the cursor must move back to once the page being read is considered: a message
   * stored meanwhile may be missing from that page. Applied after the page rather than by
   * discarding it, so wake-ups arriving faster than pages can be read never stall the scan.
   */
  private moveBackTo: number | undefined;
  private stopped = false;
  private readonly pageSize: number;
  private readonly pagesPerTurn: number;
  private readonly runNow = () => void this.run();

  constructor(private readonly options: BacklogScannerOptions) {
    this.pageSize = options.pageSize ?? 512;
    this.pagesPerTurn = options.pagesPerTurn ?? 8;
  }

  /** True when every stored message has been considered since the last rewind. */
  get isCaughtUp(): boolean {
    return this.caughtUp;
  }

  /** Starts (again) from the oldest stored message: at start-up and when parked work may resume. */
  rewind(): void {
    this.moveBack(0);
  }

  /**
   * Messages from `seq` on were stored by someone else (another instance, in a cluster): read
   * again from there. Undefined means "from the oldest" (nothing says how far back to look).
   */
  lookBack(seq: number | undefined): void {
    this.moveBack(seq === undefined ? 0 : seq - 1);
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * A message stored for an address dispatch does not hold was taken (or skipped) on arrival.
   * Once caught up, the cursor moves past it so the next read does not step over it again;
   * while behind, the cursor stays: the scan reaches it later and finds it handled.
   */
  handled(seq: number): void {
    if (this.caughtUp && seq > this.cursor) this.cursor = seq;
  }

  /** A message stored for an address dispatch does not hold found no room: the scan takes it later. */
  leftForLater(seq: number): void {
    this.moveBack(seq - 1);
  }

  /** Everything after `seq` must be considered (again). */
  private moveBack(seq: number): void {
    this.caughtUp = false;
    if (this.running) {
      // The page being read may have been read before the message was stored.
      this.moveBackTo = Math.min(this.moveBackTo ?? seq, seq);
    } else if (seq < this.cursor) {
      this.cursor = seq;
    }
    this.wake();
  }

  /** Room may have freed up: continue scanning if behind. */
  wake(): void {
    if (this.caughtUp || this.scheduled || this.running || this.stopped) return;
    this.scheduled = true;
    setImmediate(this.runNow);
  }

  private async run(): Promise<void> {
    this.scheduled = false;
    if (this.stopped) return;
    this.running = true;
    let again = false;
    try {
      for (let pages = 0; pages < this.pagesPerTurn; pages++) {
        // No room: wake() resumes the scan once an address leaves.
        if (!this.options.hasRoom()) return;
        const { rows, scannedTo } = await this.options.page(this.cursor, this.pageSize);
        if (this.stopped) return;
        for (const row of rows) {
          if (this.options.consider(row) === "full") return;
          this.cursor = row.seq;
        }
        // Past the rows the page left out, so they are not stepped over again on the next read.
        if (scannedTo > this.cursor) this.cursor = scannedTo;
        if (this.moveBackTo !== undefined) {
          again = true;
          return;
        }
        if (rows.length < this.pageSize) {
          this.caughtUp = true;
          return;
        }
      }
      again = true;
    } catch (error) {
      this.options.onError(error);
      setTimeout(() => this.wake(), 1000).unref?.();
    } finally {
      this.running = false;
      if (this.moveBackTo !== undefined) {
        if (this.moveBackTo < this.cursor) this.cursor = this.moveBackTo;
        this.moveBackTo = undefined;
        this.caughtUp = false;
        again = true;
      }
      if (again) this.wake();
    }
  }
}
