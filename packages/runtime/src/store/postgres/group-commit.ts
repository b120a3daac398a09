/**
 * Group commit for a networked store. A PostgreSQL commit costs a round trip and a WAL flush
 * (~0.7 ms here), so units submitted during one turn of the event loop, or while the previous
 * group is still committing, go to the database together: `runGroup` writes them in one
 * transaction and reports each unit's own outcome. At most `maxInFlight` groups commit at
 * once; whatever arrives meanwhile waits and forms the next group, so under load groups grow
 * instead of queueing transactions.
 */
export type UnitOutcome<R> =
  | { readonly ok: true; readonly value: R }
  | { readonly ok: false; readonly error: unknown };

export interface GroupCommitStats {
  /** Groups that reached the database (committed or not). */
  readonly groups: number;
  /** Units in those groups. */
  readonly units: number;
  readonly largestGroup: number;
}

export interface GroupCommitOptions {
  readonly maxInFlight?: number;
  /** Beyond this many units a group is split, keeping statements and savepoint chains bounded. */
  readonly maxGroupSize?: number;
  /** Told about every group that committed (its units, how long its transaction took); must be cheap. */
  readonly onCommitted?: (groupSize: number, micros: number) => void;
}

interface Pending<I, R> {
  readonly item: I;
  readonly resolve: (value: R) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit<I, R> {
  private pending: Pending<I, R>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private closed = false;
  private groups = 0;
  private units = 0;
  private largestGroup = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly maxInFlight: number;
  private readonly maxGroupSize: number;
  private readonly onCommitted: ((groupSize: number, micros: number) => void) | undefined;
  private readonly flushNow = () => this.flush();

  /** `runGroup` returns one outcome per item, in order; throwing fails every unit with that error. */
  constructor(
    private readonly runGroup: (items: readonly I[]) => Promise<UnitOutcome<R>[]>,
    options: GroupCommitOptions = {},
  ) {
    this.maxInFlight = options.maxInFlight ?? 2;
    this.maxGroupSize = options.maxGroupSize ?? 512;
    this.onCommitted = options.onCommitted;
  }

  submit(item: I): Promise<R> {
    if (this.closed) return Promise.reject(new Error("the store is closed"));
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  stats(): GroupCommitStats {
    return { groups: this.groups, units: this.units, largestGroup: this.largestGroup };
  }

  /** Refuses new units; resolves once every submitted unit has settled. */
  close(): Promise<void> {
    this.closed = true;
    if (this.pending.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.pending.length === 0 || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(this.flushNow);
  }

  private flush(): void {
    this.scheduled = false;
    if (this.inFlight >= this.maxInFlight || this.pending.length === 0) return;
    const group = this.pending.splice(0, this.maxGroupSize);
    this.inFlight++;
    this.groups++;
    this.units += group.length;
    this.largestGroup = Math.max(this.largestGroup, group.length);
    const started = this.onCommitted ? process.hrtime.bigint() : 0n;
    this.runGroup(group.map((unit) => unit.item))
      .then(
        (outcomes) => {
          this.onCommitted?.(group.length, Number(process.hrtime.bigint() - started) / 1000);
          group.forEach((unit, index) => {
            const outcome = outcomes[index];
            if (outcome === undefined) unit.reject(new Error("the group commit lost a unit's outcome"));
            else if (outcome.ok) unit.resolve(outcome.value);
            else unit.reject(outcome.error);
          });
        },
        (error: unknown) => {
          for (const unit of group) unit.reject(error);
        },
      )
      .finally(() => {
        this.inFlight--;
        this.schedule();
        if (this.inFlight === 0 && this.pending.length === 0) {
          for (const resolve of this.idleWaiters.splice(0)) resolve();
        }
      });
    // More than one group's worth was waiting: start the next now if a slot is free.
    this.schedule();
  }
}
