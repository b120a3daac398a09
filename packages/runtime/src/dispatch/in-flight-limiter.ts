/**
 * The global cap on requests in flight (StateFun's statefun.async.max-per-task). Addresses
 * waiting for a slot are served in arrival order, so no address starves.
 *
 * At most `startsPerTurn` new requests start in one event-loop turn; the rest start in the
 * next turns. A burst (a start-up with a large stored backlog, an endpoint coming back)
 * would otherwise open a thousand connections in one synchronous stretch while ingress
 * waits for the event loop.
 */
export class InFlightLimiter {
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private startedThisTurn = 0;
  private turnScheduled = false;
  private readonly nextTurn = () => this.startWaiting();

  constructor(
    private readonly limit: number,
    private readonly startsPerTurn = 128,
  ) {}

  /** Runs `start` now if a slot is free (and this turn's budget allows), else later. */
  acquire(start: () => void): void {
    if (
      this.inFlight < this.limit &&
      this.waiting.length === 0 &&
      this.startedThisTurn < this.startsPerTurn
    ) {
      this.inFlight++;
      this.countStart();
      start();
    } else {
      this.waiting.push(start);
      if (this.inFlight < this.limit) this.scheduleTurn();
    }
  }

  /** A request finished: its slot goes to the next waiting address, if any. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }

  /** Forgets everyone waiting for a slot (on shutdown: their batches stay stored). */
  clearWaiting(): void {
    this.waiting.length = 0;
  }

  get active(): number {
    return this.inFlight;
  }

  get queued(): number {
    return this.waiting.length;
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
    while (
      this.inFlight < this.limit &&
      this.waiting.length > 0 &&
      this.startedThisTurn < this.startsPerTurn
    ) {
      this.inFlight++;
      this.startedThisTurn++;
      (this.waiting.shift() as () => void)();
    }
    if (this.startedThisTurn > 0 || (this.waiting.length > 0 && this.inFlight < this.limit))
      this.scheduleTurn();
  }
}
