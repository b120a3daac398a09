import type { StoredMessage } from "../store/records.js";
import type { Store } from "../store/store.js";
import type { Logger } from "./logger.js";

/** setTimeout cannot wait longer than this; longer delays re-arm on wake-up. */
const MAX_TIMEOUT_MS = 2_147_483_647;
/** Timers moved to the inbox per transaction when many are due at once. */
const FIRE_BATCH = 1000;

/**
 * Fires delayed messages. The timers live only in the store; this keeps one wake-up armed
 * for the earliest due time. Firing moves each due timer into the inbox in one commit unit
 * (delete timer + insert message), so a crash either fires it or leaves it pending, never
 * both or neither.
 */
export class DelayedMessageScheduler {
  private handle: NodeJS.Timeout | undefined;
  private armedFor: number | undefined;
  private firing = false;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly deliver: (messages: StoredMessage[]) => void,
    private readonly clock: () => number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.rearm();
  }

  stop(): void {
    this.stopped = true;
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
    this.armedFor = undefined;
  }

  /** Tell the scheduler a timer due at `dueAt` was committed. */
  scheduled(dueAt: number): void {
    if (this.stopped || this.firing) return;
    if (this.armedFor === undefined || dueAt < this.armedFor) this.arm(dueAt);
  }

  pending(): number {
    return this.store.timers.count();
  }

  private rearm(): void {
    if (this.stopped) return;
    const next = this.store.timers.nextDueAt();
    if (next === undefined) {
      if (this.handle) clearTimeout(this.handle);
      this.handle = undefined;
      this.armedFor = undefined;
    } else {
      this.arm(next);
    }
  }

  private arm(dueAt: number): void {
    if (this.handle) clearTimeout(this.handle);
    this.armedFor = dueAt;
    const wait = Math.min(Math.max(0, dueAt - this.clock()), MAX_TIMEOUT_MS);
    this.handle = setTimeout(() => void this.fire(), wait);
    this.handle.unref?.();
  }

  private async fire(): Promise<void> {
    this.handle = undefined;
    this.armedFor = undefined;
    if (this.stopped) return;
    this.firing = true;
    try {
      for (;;) {
        const now = this.clock();
        const due = this.store.timers.due(now, FIRE_BATCH);
        if (due.length === 0) break;
        const fired = await this.store.commits.submit(() => {
          const messages: StoredMessage[] = [];
          for (const timer of due) {
            // A cancellation may have committed since `due` was read: deliver only if still pending.
            if (this.store.timers.deleteIfPending(timer.seq)) {
              messages.push(this.store.messages.insert(timer.message, now));
            }
          }
          return messages;
        });
        this.deliver(fired);
        if (due.length < FIRE_BATCH || this.stopped) break;
      }
    } catch (error) {
      this.logger.error({ err: error }, "firing delayed messages failed; retrying in 1 s");
      this.firing = false;
      if (!this.stopped) this.arm(this.clock() + 1000);
      return;
    }
    this.firing = false;
    this.rearm();
  }
}
