/**
 * Group commit. Work submitted during one turn of the event loop is applied in ONE SQLite
 * transaction (one fsync in "full" durability), then every submitter's promise settles.
 * Each unit of work runs in its own savepoint, so one failing unit rolls back only itself
 * and rejects only its own promise: a bad result from one address never undoes another's.
 * A unit that is a single write statement needs no savepoint (SQLite undoes a failing
 * statement by itself), which is why `submitStatement` exists: ingress inserts are most of
 * the units and their savepoints were a visible share of the commit.
 *
 * With a `durable` sync (durability "full") a committed group settles only after the WAL
 * fsync that covers it, and that fsync runs off the event loop: while one group reaches the
 * disk the next one commits. Groups committed during one fsync share the next.
 */
import type Database from "better-sqlite3";

/** Makes everything committed so far durable (the WAL fsync). */
export interface DurableSync {
  sync(done: (error: Error | null) => void): void;
  syncNow(): void;
}

/** A committed group whose promises wait for durability. */
interface Committed {
  readonly units: readonly Pending[];
  readonly results: readonly unknown[];
}

interface Pending {
  readonly work: () => unknown;
  readonly atomic: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export interface CommitStats {
  readonly commits: number;
  readonly units: number;
  readonly lastGroupSize: number;
  readonly lastCommitMicros: number;
}

/** Marks a unit whose work threw; its savepoint (if any) was rolled back. */
class UnitFailure {
  constructor(readonly error: unknown) {}
}

export class CommitQueue {
  private pending: Pending[] = [];
  private scheduled = false;
  private closed = false;
  private commits = 0;
  private units = 0;
  private lastGroupSize = 0;
  private lastCommitMicros = 0;
  /** Told about every durable group (size, seconds); metrics hook, must be cheap. */
  onCommit: ((groupSize: number, seconds: number) => void) | undefined;
  private readonly runGroup: (group: readonly Pending[]) => unknown[];
  /** Called inside the group transaction, a better-sqlite3 transaction function runs as a savepoint. */
  private readonly inSavepoint: (work: () => unknown) => unknown;
  private readonly flushNow = () => this.flush();
  /** Committed, not yet covered by an fsync. */
  private unsynced: Committed[] = [];
  /** Covered by the fsync in flight. */
  private syncing: Committed[] | undefined;

  /**
   * `onRollback` runs whenever written work did not become durable (a unit rolled back or
   * the whole group failed), so in-memory mirrors of the store can drop what they saw.
   */
  constructor(
    db: Database.Database,
    private readonly onRollback: () => void = () => {},
    private readonly durable?: DurableSync,
  ) {
    // Both wrappers are built once: building one per unit costs more than the unit's own SQL.
    this.inSavepoint = db.transaction((work: () => unknown) => work());
    this.runGroup = db.transaction((group: readonly Pending[]) => {
      const results = new Array<unknown>(group.length);
      for (let index = 0; index < group.length; index++)
        results[index] = this.runUnit(group[index] as Pending);
      return results;
    });
  }

  /** Runs `work` inside the next group transaction; resolves once that group is durable. */
  submit<T>(work: () => T): Promise<T> {
    return this.enqueue(work, true);
  }

  /**
   * Like `submit`, for work that executes at most ONE write statement (so it needs no
   * savepoint of its own to apply wholly or not at all).
   */
  submitStatement<T>(work: () => T): Promise<T> {
    return this.enqueue(work, false);
  }

  stats(): CommitStats {
    return {
      commits: this.commits,
      units: this.units,
      lastGroupSize: this.lastGroupSize,
      lastCommitMicros: this.lastCommitMicros,
    };
  }

  /** Resolves once everything committed or submitted before this call is durable. */
  whenDurable(): Promise<void> {
    if (this.pending.length === 0 && this.unsynced.length === 0 && !this.syncing) return Promise.resolve();
    return this.enqueue(() => undefined, false);
  }

  /** Commits whatever is pending now and makes it durable, then refuses new work. */
  close(): void {
    this.flush();
    this.closed = true;
    if (!this.durable || (this.unsynced.length === 0 && !this.syncing)) return;
    this.durable.syncNow();
    const covered = [...(this.syncing ?? []), ...this.unsynced];
    this.syncing = undefined;
    this.unsynced = [];
    for (const group of covered) settle(group, null);
  }

  private enqueue<T>(work: () => T, atomic: boolean): Promise<T> {
    if (this.closed) return Promise.reject(new Error("the store is closed"));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, atomic, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flushNow);
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.pending;
    if (group.length === 0) return;
    this.pending = [];
    const started = process.hrtime.bigint();
    let results: unknown[];
    try {
      results = this.runGroup(group);
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing in the group is durable.
      this.onRollback();
      for (const unit of group) unit.reject(error);
      return;
    }
    this.commits++;
    this.units += group.length;
    this.lastGroupSize = group.length;
    this.lastCommitMicros = Number(process.hrtime.bigint() - started) / 1000;
    this.onCommit?.(group.length, this.lastCommitMicros / 1e6);
    if (!this.durable) {
      settle({ units: group, results }, null);
    } else {
      this.unsynced.push({ units: group, results });
      if (!this.syncing) this.syncUnsynced();
    }
    // In-memory mirrors of the store drop what a rolled-back unit wrote before anyone reads them.
    if (results.some((result) => result instanceof UnitFailure)) this.onRollback();
  }

  private syncUnsynced(): void {
    const covered = this.unsynced;
    this.unsynced = [];
    this.syncing = covered;
    (this.durable as DurableSync).sync((error) => {
      if (this.syncing !== covered) return; // close() settled them already
      this.syncing = undefined;
      for (const group of covered) settle(group, error);
      if (this.unsynced.length > 0) this.syncUnsynced();
    });
  }

  private runUnit(unit: Pending): unknown {
    try {
      return unit.atomic ? this.inSavepoint(unit.work) : unit.work();
    } catch (error) {
      return new UnitFailure(error);
    }
  }
}

/**
 * Settles a committed group's promises: each unit with its result, a failed unit with its
 * own error, and every unit with `syncError` when the commit could not be made durable.
 */
function settle(group: Committed, syncError: Error | null): void {
  for (let index = 0; index < group.units.length; index++) {
    const unit = group.units[index] as Pending;
    const result = group.results[index];
    if (result instanceof UnitFailure) unit.reject(result.error);
    else if (syncError) unit.reject(syncError);
    else unit.resolve(result);
  }
}
