import type {
  AppliedResult,
  BatchRead,
  BatchReadRequest,
  ResultWrite,
  StoreBackend,
  StoreStats,
} from "../contract.js";
import { readBatches } from "./batch-read.js";
import { CommitTally } from "./commit-tally.js";
import { FencedUnits } from "./fenced-units.js";
import { GroupCommit, type GroupCommitOptions } from "./group-commit.js";
import type { PartitionOwner } from "./partition-owner.js";
import { PostgresDeadLetters } from "./postgres-dead-letters.js";
import { PostgresEgress } from "./postgres-egress.js";
import { PostgresMessages } from "./postgres-messages.js";
import { PostgresSpecs } from "./postgres-specs.js";
import { PostgresState } from "./postgres-state.js";
import type { PostgresStore } from "./postgres-store.js";
import { PostgresSuspensions } from "./postgres-suspensions.js";
import { PostgresTimers } from "./postgres-timers.js";
import { ResultWrites } from "./result-writes.js";

export interface PostgresBackendOptions {
  /** Group commit of ingress accepts. */
  readonly accepts?: GroupCommitOptions;
  /** Group commit of applied results. */
  readonly results?: GroupCommitOptions;
  /** Grouping of batch reads (not commits: they write nothing). */
  readonly reads?: GroupCommitOptions;
  /** Group commit of the other owner-only writes (suspensions, backlog moves, egress deletes). */
  readonly ownerWrites?: GroupCommitOptions;
  /**
   * Runs in close() once everything submitted is committed and before the pool closes: where
   * the instance that built the backend stops its Ownership (handing its partitions over).
   */
  readonly beforePoolCloses?: () => Promise<void>;
}

/**
 * The store contract on PostgreSQL (cluster mode). Owner-only writes are checked against
 * `owner`'s epochs inside their transactions and fail with SB_CLUSTER_OWNERSHIP_LOST, writing
 * nothing, once a partition changed hands; reads of work to do (pageAfter, timers, pending
 * egress) see only the partitions `owner` holds. Accepts and owner writes are each group
 * committed, up to two groups of each at once: writes submitted together commit in no
 * promised order across groups (dispatch never has two results of one address in flight, and
 * a caller that awaits each write keeps its own order). close() releases the PostgresStore's
 * pool too, so the Ownership must be stopped by then: `beforePoolCloses` is the place
 * (openPostgresBackend passes it).
 */
export class PostgresBackend implements StoreBackend {
  readonly kind = "postgres" as const;
  readonly soleWriter = false;
  readonly messages: PostgresMessages;
  readonly state: PostgresState;
  readonly specs: PostgresSpecs;
  readonly suspensions: PostgresSuspensions;
  readonly deadLetters: PostgresDeadLetters;
  readonly timers: PostgresTimers;
  readonly egress: PostgresEgress;
  readonly results: ResultWrites;
  readonly ownerWrites: FencedUnits;
  /** Batch reads asked for together go to the database as one statement. */
  readonly reads: GroupCommit<BatchReadRequest, BatchRead>;

  private readonly beforePoolCloses: (() => Promise<void>) | undefined;
  private closing: Promise<void> | undefined;
  private readonly tally = new CommitTally();

  constructor(
    readonly store: PostgresStore,
    owner: PartitionOwner,
    options: PostgresBackendOptions = {},
  ) {
    this.beforePoolCloses = options.beforePoolCloses;
    const { pool, partitionCount } = store;
    const tallied = (group: GroupCommitOptions | undefined) => ({ ...group, onCommitted: this.tally.record });
    this.results = new ResultWrites(pool, owner, partitionCount, tallied(options.results));
    this.ownerWrites = new FencedUnits(pool, owner, tallied(options.ownerWrites));
    this.reads = new GroupCommit((group) => readBatches(pool, partitionCount, group), options.reads);
    this.messages = new PostgresMessages(pool, partitionCount, owner, tallied(options.accepts));
    this.state = new PostgresState(pool, partitionCount, owner);
    this.specs = new PostgresSpecs(pool);
    this.suspensions = new PostgresSuspensions(pool, partitionCount, this.ownerWrites);
    this.deadLetters = new PostgresDeadLetters(pool, partitionCount, this.ownerWrites);
    this.timers = new PostgresTimers(pool, partitionCount, owner);
    this.egress = new PostgresEgress(pool, owner, this.ownerWrites);
  }

  applyResult(write: ResultWrite): Promise<AppliedResult> {
    return this.results.submit(write);
  }

  readBatch(request: BatchReadRequest): Promise<BatchRead> {
    return this.reads.submit(request);
  }

  /** Until close() is called and while the pool has not ended: no query, so a probe costs nothing. */
  get isOpen(): boolean {
    const { pool } = this.store;
    return this.closing === undefined && !pool.ending && !pool.ended;
  }

  observeCommits(listener: (groupSize: number, seconds: number) => void): void {
    this.tally.listener = listener;
  }

  /** Across the accept, result and owner-write group commits; a commit is one transaction. */
  stats(): StoreStats {
    return this.tally.stats();
  }

  /**
   * Every write submitted before is committed (PostgreSQL commits are durable) when this
   * resolves; then `beforePoolCloses` runs and the pool closes. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([
        this.messages.accepts.close(),
        this.results.commits.close(),
        this.ownerWrites.commits.close(),
        this.reads.close(),
      ]);
      try {
        await this.beforePoolCloses?.();
      } finally {
        await this.store.close();
      }
    })();
    return this.closing;
  }
}
