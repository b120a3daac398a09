import type pg from "pg";
import type { AppliedResult, ResultWrite } from "../contract.js";
import {
  lockResultRowsAhead,
  resultPartitions,
  writeDisjointAddresses,
  writeResults,
} from "./apply-result.js";
import { runFencedGroup } from "./fenced-group.js";
import { GroupCommit, type GroupCommitOptions, type UnitOutcome } from "./group-commit.js";
import type { PartitionOwner } from "./partition-owner.js";

/**
 * Applied results, group-committed: the results submitted together share one fenced
 * transaction and, when their addresses are disjoint, one set of multi-row statements (a
 * handful of round trips for the whole group instead of several per result). A result that
 * fails its fencing check is left out; if the shared statements fail, each result is written
 * again in a savepoint of its own, so one bad result never undoes another; those results'
 * timer and message-partition locks are then taken first, all at once (lockResultRowsAhead).
 */
export class ResultWrites {
  readonly commits: GroupCommit<ResultWrite, AppliedResult>;

  constructor(
    pool: pg.Pool,
    owner: PartitionOwner,
    partitionCount: number,
    options: GroupCommitOptions = {},
  ) {
    this.commits = new GroupCommit(
      (writes) =>
        runFencedGroup(
          pool,
          owner,
          writes.map((write) => ({
            partitions: resultPartitions(write, partitionCount),
            ...(write.claim ? { epochs: new Map([[write.claim.partition, write.claim.epoch]]) } : {}),
            work: async (transaction) => (await writeResults(transaction, [write], partitionCount))[0],
          })),
          writeDisjointAddresses(writes)
            ? (transaction, admitted) =>
                writeResults(
                  transaction,
                  admitted.map((index) => writes[index] as ResultWrite),
                  partitionCount,
                )
            : undefined,
          (transaction, admitted) =>
            lockResultRowsAhead(
              transaction,
              admitted.map((index) => writes[index] as ResultWrite),
              partitionCount,
            ),
        ) as Promise<UnitOutcome<AppliedResult>[]>,
      options,
    );
  }

  submit(write: ResultWrite): Promise<AppliedResult> {
    return this.commits.submit(write);
  }
}
