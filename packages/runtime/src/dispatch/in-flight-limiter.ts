/**
 * The global cap on requests in flight (StateFun's statefun.async.max-per-task).
 *
 * Waiting addresses queue in lanes (one per function type). A freed slot goes to the lanes in
 * turn, oldest waiter first within a lane: a function type with a large backlog (an endpoint
 * that came back after an outage) takes every slot nobody else wants, but another type's
 * address waits for one slot, not behind the whole backlog.
 *
 * At most `startsPerTurn` new requests start in one event-loop turn; the rest start in the
 * next turns. A burst (a start-up with a large stored backlog, an endpoint coming back)
 * would otherwise open a thousand connections in one synchronous stretch while ingress
 * waits for the event loop.
 */
export class InFlightLimiter {
  private inFlight = 0;
  private waitingCount = 0;
  /** Waiting starts per lane; a lane is here only while it has waiters. */
  private readonly lanes = new Map<string, Array<() => void>>();
  /** Lanes with waiters, in the order they are served next. */
  private readonly turns: string[] = [];
  private startedThisTurn = 0;
  private turnScheduled = false;
  private readonly nextTurn = () => this.startWaiting();

  constructor(
    private readonly limit: number,
    private readonly startsPerTurn = 128,
  ) {}

  /** Runs `start` now if a slot is free (and this turn's budget allows), else later in `lane`. */
  acquire(lane: string, start: () => void): void {
    if (this.inFlight < this.limit && this.waitingCount === 0 && this.startedThisTurn < this.startsPerTurn) {
      this.inFlight++;
      this.countStart();
      start();
      return;
    }
    let queue = this.lanes.get(lane);
    if (!queue) {
      queue = [];
      this.lanes.set(lane, queue);
      this.turns.push(lane);
    }
    queue.push(start);
    this.waitingCount++;
    if (this.inFlight < this.limit) this.scheduleTurn();
  }

  /** A request finished: its slot goes to the next lane's oldest waiter, if any. */
  release(): void {
    const next = this.takeNext();
    if (next) next();
    else this.inFlight--;
  }

  /** Forgets everyone waiting for a slot (on shutdown: their batches stay stored). */
  clearWaiting(): void {
    this.lanes.clear();
    this.turns.length = 0;
    this.waitingCount = 0;
  }

  get active(): number {
    return this.inFlight;
  }

  get queued(): number {
    return this.waitingCount;
  }

  /** Waiters in one lane. */
  queuedIn(lane: string): number {
    return this.lanes.get(lane)?.length ?? 0;
  }

  private takeNext(): (() => void) | undefined {
    const lane = this.turns.shift();
    if (lane === undefined) return undefined;
    const queue = this.lanes.get(lane) as Array<() => void>;
    const next = queue.shift();
    this.waitingCount--;
    if (queue.length > 0) this.turns.push(lane);
    else this.lanes.delete(lane);
    return next;
  }

  private countStart(): void {
    this.startedThisTurn++;
    this.scheduleTurn();
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(this.nextTurn);
  }

  private startWaiting(): void {
    this.turnScheduled = false;
    this.startedThisTurn = 0;
    while (this.inFlight < this.limit && this.waitingCount > 0 && this.startedThisTurn < this.startsPerTurn) {
      const next = this.takeNext() as () => void;
      this.inFlight++;
      this.startedThisTurn++;
      next();
    }
    if (this.startedThisTurn > 0 || (this.waitingCount > 0 && this.inFlight < this.limit))
      this.scheduleTurn();
  }
}
