import { type Logger, redactUrls } from "../dispatch/logger.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { StoredEgressRecord } from "../store/records.js";
import type { Store } from "../store/store.js";

/** Delivers one record; resolves when the receiver has it, throws to retry later. */
export type DeliverRecord = (record: StoredEgressRecord) => Promise<void>;

const BATCH = 100;

/**
 * Drains one egress's outbox in order, at least once: a record is deleted only after it was
 * delivered, so a crash between the two re-delivers it (receivers dedupe by the record's
 * sequence number). A failing delivery is retried with capped exponential backoff.
 */
export class OutboxDeliverer {
  private running = false;
  private again = false;
  private stopped = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly egressId: string,
    private readonly store: Store,
    private readonly deliver: DeliverRecord,
    private readonly logger: Logger,
    private readonly backoff = { initialMs: 100, maxMs: 30_000 },
  ) {}

  /** Starts a drain, or asks the running one to look again. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.retryTimer) return;
    void this.drain();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.running) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      do {
        this.again = false;
        let afterSeq = 0;
        for (;;) {
          const records = this.store.egress.pending(this.egressId, afterSeq, BATCH);
          if (records.length === 0 || this.stopped) break;
          // A record read here may be committed but not yet on disk: it leaves only once it is.
          await this.store.commits.whenDurable();
          for (const record of records) {
            if (this.stopped) break;
            await this.deliver(record);
            await this.store.commits.submit(() => this.store.egress.delete(record.seq));
            afterSeq = record.seq;
          }
        }
      } while (this.again && !this.stopped);
      this.failures = 0;
    } catch (error) {
      this.failures++;
      const delay = Math.min(this.backoff.initialMs * 2 ** (this.failures - 1), this.backoff.maxMs);
      // Code and a URL-scrubbed message only: the record body and the receiver's headers
      // (tokens) must never reach the log.
      this.logger.warn(
        {
          egress: this.egressId,
          code: error instanceof SwitchboardError ? error.code : "SB_INTERNAL",
          error: redactUrls(error instanceof Error ? error.message : String(error)),
          failures: this.failures,
          retryInMs: delay,
        },
        "egress delivery failed; will retry",
      );
      if (!this.stopped) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.wake();
        }, delay);
        this.retryTimer.unref?.();
      }
    } finally {
      this.running = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}
