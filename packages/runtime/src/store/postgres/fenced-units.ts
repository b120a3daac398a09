import type pg from "pg";
import { type FencedUnit, runFencedGroup } from "./fenced-group.js";
import { GroupCommit, type GroupCommitOptions } from "./group-commit.js";
import type { PartitionOwner } from "./partition-owner.js";

/** Owner-only writes, group-committed: units submitted together share one fenced transaction. */
export class FencedUnits {
  readonly commits: GroupCommit<FencedUnit<unknown>, unknown>;

  constructor(pool: pg.Pool, owner: PartitionOwner, options: GroupCommitOptions = {}) {
    this.commits = new GroupCommit((units) => runFencedGroup(pool, owner, units), options);
  }

  /** Resolves once the unit is committed; rejects with its own error (SB_CLUSTER_OWNERSHIP_LOST, ...). */
  submit<T>(unit: FencedUnit<T>): Promise<T> {
    return this.commits.submit(unit) as Promise<T>;
  }
}
