import type { TimerStore } from "../store/contract.js";
import type { StoredMessage } from "../store/records.js";
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
  private lastCount = 0;
  private countedAt = 0;
  private counting = false;

  constructor(
    private readonly timers: TimerStore,
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

  /**
   * Timers stored and not yet fired, as last counted: a count reads the whole table, so it
   * is refreshed in the background at most once a second rather than on every read-out.
   */
  pending(): number {
    const now = Date.now();
    if (!this.counting && now - this.countedAt >= 1000) {
      this.counting = true;
      this.countedAt = now;
      this.timers
        .count()
        .then((count) => {
          this.lastCount = count;
        })
        .catch(() => {})
        .finally(() => {
          this.counting = false;
        });
    }
    return this.lastCount;
  }

  private rearm(): void {
    if (this.stopped) return;
    this.timers.nextDueAt().then(
      (next) => {
        if (this.stopped || this.firing) return;
        if (next === undefined) {
          if (this.handle) clearTimeout(this.handle);
          this.handle = undefined;
          this.armedFor = undefined;
        } else if (this.armedFor === undefined || next < this.armedFor) {
          this.arm(next);
        }
      },
      (error) => {
        this.logger.error({ err: error }, "reading the next delayed message failed; retrying in 1 s");
        if (!this.stopped) this.arm(this.clock() + 1000);
      },
    );
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
        const fired = await this.timers.fireDue(this.clock(), FIRE_BATCH);
        this.deliver(fired);
        if (fired.length < FIRE_BATCH || this.stopped) break;
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
