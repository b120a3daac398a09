import type { StoreStats } from "../contract.js";

/**
 * The backend's group-commit figures, across its group commits (accepts, results, owner
 * writes): each reports its committed groups here, so "the last commit" is whichever
 * finished last, as on the SQLite store where one queue commits everything.
 */
export class CommitTally {
  private commits = 0;
  private units = 0;
  private lastGroupSize = 0;
  private lastCommitMicros = 0;
  /** Hears every commit too (the runtime's commit histograms). */
  listener: ((groupSize: number, seconds: number) => void) | undefined;

  /** Passed to each GroupCommit as its `onCommitted`. */
  readonly record = (groupSize: number, micros: number): void => {
    this.commits++;
    this.units += groupSize;
    this.lastGroupSize = groupSize;
    this.lastCommitMicros = micros;
    this.listener?.(groupSize, micros / 1e6);
  };

  stats(): StoreStats {
    return {
      commits: this.commits,
      units: this.units,
      lastGroupSize: this.lastGroupSize,
      lastCommitMicros: this.lastCommitMicros,
    };
  }
}
