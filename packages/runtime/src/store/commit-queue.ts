/**
 * Group commit. Work submitted during one turn of the event loop is applied in ONE SQLite
 * transaction (one fsync in "full" durability), then every submitter's promise settles.
 * Each unit of work runs in its own savepoint, so one failing unit rolls back only itself
 * and rejects only its own promise: a bad result from one address never undoes another's.
 */
import type Database from "better-sqlite3";

interface Pending {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };

export interface CommitStats {
  readonly commits: number;
  readonly units: number;
  readonly lastGroupSize: number;
  readonly lastCommitMicros: number;
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
  private readonly runGroup: (group: readonly Pending[]) => Outcome[];
  /** Called inside the group transaction, a better-sqlite3 transaction function runs as a savepoint. */
  private readonly inSavepoint: (work: () => unknown) => unknown;

  constructor(db: Database.Database) {
    // Both wrappers are built once: building one per unit costs more than the unit's own SQL.
    this.inSavepoint = db.transaction((work: () => unknown) => work());
    this.runGroup = db.transaction((group: readonly Pending[]) => group.map((unit) => this.runUnit(unit)));
  }

  /** Runs `work` inside the next group transaction; resolves once that group is durable. */
  submit<T>(work: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error("the store is closed"));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  stats(): CommitStats {
    return {
      commits: this.commits,
      units: this.units,
      lastGroupSize: this.lastGroupSize,
      lastCommitMicros: this.lastCommitMicros,
    };
  }

  /** Commits whatever is pending now, then refuses new work. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.pending;
    if (group.length === 0) return;
    this.pending = [];
    const started = process.hrtime.bigint();
    let outcomes: Outcome[];
    try {
      outcomes = this.runGroup(group);
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing in the group is durable.
      for (const unit of group) unit.reject(error);
      return;
    }
    this.commits++;
    this.units += group.length;
    this.lastGroupSize = group.length;
    this.lastCommitMicros = Number(process.hrtime.bigint() - started) / 1000;
    this.onCommit?.(group.length, this.lastCommitMicros / 1e6);
    group.forEach((unit, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok) unit.resolve(outcome.value);
      else unit.reject(outcome?.error);
    });
  }

  private runUnit(unit: Pending): Outcome {
    try {
      return { ok: true, value: this.inSavepoint(unit.work) };
    } catch (error) {
      return { ok: false, error };
    }
  }
}
