import { type Logger, redactUrls } from "../dispatch/logger.js";
import { ClusterErrors } from "../errors/cluster-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { EgressStore } from "../store/contract.js";
import type { StoredEgressRecord } from "../store/records.js";

/** Delivers one record; resolves when the receiver has it, throws to retry later. */
export type DeliverRecord = (record: StoredEgressRecord) => Promise<void>;

/** Records read per store round trip. */
const BATCH = 100;

/**
 * Drains one egress's outbox in order, at least once: a record is deleted only after it was
 * delivered, so a crash between the two re-delivers it (receivers dedupe by the record's
 * sequence number). A failing delivery is retried with capped exponential backoff.
 *
 * The store hands out durable records only, so nothing delivered can vanish in a crash. In a
 * cluster, delivery belongs to the owner of the producer's partition. A deliverer that lost
 * the partition learns it when its delete fails with SB_CLUSTER_OWNERSHIP_LOST: it leaves
 * the record (and the rest of that partition's outbox, which its next read no longer sees)
 * to the new owner, which delivers it again. So a record delivered in the window between the
 * lease running out and that delete reaches the receiver twice, as a record delivered just
 * before a crash does: at least once, as in StateFun; the idempotency key is the same both
 * times.
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
    private readonly egress: EgressStore,
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
        while (!this.stopped) {
          const records = await this.egress.pending(this.egressId, afterSeq, BATCH);
          if (records.length === 0) break;
          afterSeq = await this.deliverPage(records, afterSeq);
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

  /** Delivers a page in order, deleting each record after it; returns the seq to read on from. */
  private async deliverPage(records: readonly StoredEgressRecord[], afterSeq: number): Promise<number> {
    let delivered = afterSeq;
    for (const record of records) {
      if (this.stopped) break;
      await this.deliver(record);
      delivered = record.seq;
      // The rest of this page may belong to the lost partition too: read on, owned ones only.
      if (!(await this.forget(record))) break;
    }
    return delivered;
  }

  /** Deletes a delivered record; false when its partition went to another instance. */
  private async forget(record: StoredEgressRecord): Promise<boolean> {
    try {
      await this.egress.delete(record.seq);
      return true;
    } catch (error) {
      if (!(error instanceof SwitchboardError && error.code === ClusterErrors.OWNERSHIP_LOST.code))
        throw error;
      this.logger.info(
        { egress: this.egressId, seq: record.seq, code: error.code },
        "egress record left to its partition's new owner, which delivers it again",
      );
      return false;
    }
  }
}
