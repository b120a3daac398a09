/**
 * The store contract: everything the runtime asks of its durable store, with two backends
 * behind it (the embedded SQLite store and PostgreSQL for cluster mode) and one contract test
 * suite run against both (test/store-contract.test.ts).
 *
 * Every method is asynchronous, so a networked backend fits. Each write is one atomic unit:
 * it applies wholly or not at all, and its promise settles only once it is durable. A backend
 * may group units from many callers into one transaction (the SQLite store does, per turn of
 * the event loop); one failing unit never undoes another.
 *
 * Ownership: in a cluster, writes that belong to an address (applying a result, suspending
 * it, moving its backlog aside, firing a timer, delivering egress) may only be made by the
 * owner of the address's partition. A PostgreSQL backend checks its fencing epoch inside
 * each such write and rejects it with SB_CLUSTER_OWNERSHIP_LOST, writing nothing, once it has
 * lost the partition. Ingress writes (`accept`) are allowed on any instance. The embedded
 * backend owns everything.
 */
import type {
  AddressRef,
  AddressRow,
  BacklogPage,
  DeadLetter,
  NewMessage,
  ResultPlan,
  StateSpec,
  StateValue,
  StoredEgressRecord,
  StoredMessage,
  StoredTimer,
  Suspension,
} from "./records.js";

/**
 * Cluster: the partition an address is in and the epoch this instance held it with when a
 * batch was read. Its result commits only while the partition is still held with that epoch:
 * an instance that lost the partition and took it back since holds a new epoch, and a batch
 * read before then (against state another owner may have changed meanwhile) never commits.
 */
export interface OwnerClaim {
  readonly partition: number;
  readonly epoch: number;
}

/** One applied result: the plan written in StateFun's order, and the batch it consumes. */
export interface ResultWrite {
  readonly address: AddressRef;
  readonly plan: ResultPlan;
  /** Seqs of the batch's messages: deleted by the same unit. */
  readonly consumed: readonly number[];
  /** The function type's registered specs (AFTER_INVOKE expiry is refreshed for each). */
  readonly specs: readonly StateSpec[];
  /** Whether the address was suspended: its suspension is cleared by the same unit. */
  readonly clearSuspension: boolean;
  readonly now: number;
  /** Cluster: the ownership the batch was read under (the embedded backend owns everything). */
  readonly claim?: OwnerClaim;
}

export interface AppliedResult {
  /** Outgoing messages as stored, to dispatch once durable. */
  readonly outgoing: readonly StoredMessage[];
  /** Earliest due time among new delayed messages, if any. */
  readonly earliestTimer?: number;
  /** Egress ids that received records. */
  readonly egressIds: ReadonlySet<string>;
}

export interface MessageCount {
  readonly count: number;
  /** The newest message's seq; 0 when there is none. */
  readonly lastSeq: number;
}

/** What dispatch reads before it sends an address's next batch. */
export interface BatchReadRequest {
  readonly address: AddressRef;
  /** At most this many messages (Infinity: all of them). */
  readonly limit: number;
  /** State that expired by `now` is not returned. */
  readonly now: number;
  /** Also count the whole backlog: dispatch has not counted this address since it came to memory. */
  readonly withCount: boolean;
}

/** An address's next batch and its live state, read together (one round trip on a network store). */
export interface BatchRead {
  /** The oldest messages, oldest first. */
  readonly messages: StoredMessage[];
  readonly state: ReadonlyMap<string, StateValue>;
  /** The whole backlog as the same read saw it; only when asked for. */
  readonly count?: MessageCount;
}

/** A message acceptBounded stored. */
export interface BoundedAccept {
  readonly message: StoredMessage;
  /**
   * How many messages its address held when it was stored, as the same step counted them; the
   * embedded store says (0: it is the address's only one), PostgreSQL does not.
   */
  readonly waitingBefore?: number;
}

/** Accepted messages: the inbox and every address's backlog, in acceptance (seq) order. */
export interface MessageStore {
  /** Durably stores a message from ingress; any instance may. */
  accept(message: NewMessage, now: number): Promise<StoredMessage>;
  /**
   * accept(), unless the address already holds `maxWaiting` messages: then nothing is stored
   * and the answer is undefined. Counting and storing are one step, so back-pressure costs
   * an ingress no extra round trip to a network store.
   */
  acceptBounded(message: NewMessage, now: number, maxWaiting: number): Promise<BoundedAccept | undefined>;
  count(address: AddressRef): Promise<MessageCount>;
  /** The oldest `limit` messages of an address, oldest first: its next batch. */
  head(address: AddressRef, limit: number): Promise<StoredMessage[]>;
  /** The addresses of the messages after `afterSeq`, in seq order (only owned partitions'). */
  pageAfter(afterSeq: number, limit: number): Promise<AddressRow[]>;
  /**
   * pageAfter that may leave out the messages of `skipTypes` (parked function types), so that
   * the backlog of a down endpoint is not read again and again; see BacklogPage for
   * `scannedTo`. A backend that leaves nothing out returns pageAfter's rows.
   */
  pageAfterSkipping(afterSeq: number, limit: number, skipTypes: readonly string[]): Promise<BacklogPage>;
  /** The first id after `afterId`, in id order, of type `fn` with a stored message. */
  nextIdWithMessages(fn: string, afterId: string): Promise<string | undefined>;
}

export interface StateStore {
  /** Live values of an address; expired values are never returned. */
  read(address: AddressRef, now: number): Promise<ReadonlyMap<string, StateValue>>;
  /** Removes expired values; returns how many. Must not scan unexpiring values. */
  purgeExpired(now: number): Promise<number>;
}

export interface SpecStore {
  /** Registers specs for a function type; the first registration of a name wins. */
  register(fn: string, specs: readonly StateSpec[], now: number): Promise<void>;
  all(): Promise<Map<string, StateSpec[]>>;
}

export interface SuspensionStore {
  /** Records (or updates) an address's suspension. Owner only. */
  upsert(suspension: Suspension): Promise<void>;
  all(): Promise<Suspension[]>;
}

export interface DeadLetterStore {
  /**
   * Moves every stored message of a suspended address into the dead-letter store and clears
   * its suspension, in one unit. Owner only. Returns the new dead letters, oldest first.
   */
  moveBacklog(
    address: AddressRef,
    error: { code: string; message: string },
    now: number,
  ): Promise<DeadLetter[]>;
  /** Stores the dead letter's message again for dispatch and deletes it, in one unit. */
  reinject(seq: number, now: number): Promise<StoredMessage | undefined>;
  /** Deletes a dead letter; false when there is none with that seq. */
  drop(seq: number): Promise<boolean>;
  get(seq: number): Promise<DeadLetter | undefined>;
  list(afterSeq: number, limit: number, address?: AddressRef): Promise<DeadLetter[]>;
  count(): Promise<number>;
}

export interface TimerStore {
  /** The earliest due time of a pending timer (owned partitions only). */
  nextDueAt(): Promise<number | undefined>;
  /**
   * Moves up to `limit` timers due at `now` into the inbox, each exactly once: deleted and
   * stored as a message in one unit. Returns the messages stored.
   */
  fireDue(now: number, limit: number): Promise<StoredMessage[]>;
  /** Timers an address sent, and timers aimed at it (admin read-outs). */
  sentBy(address: AddressRef): Promise<StoredTimer[]>;
  aimedAt(address: AddressRef): Promise<StoredTimer[]>;
  count(): Promise<number>;
}

export interface EgressStore {
  /**
   * Records of one egress after `afterSeq`, oldest first (owned partitions only). Every record
   * returned is durable: a deliverer may hand it out at once, and a crash never takes back a
   * record a receiver has seen.
   */
  pending(egress: string, afterSeq: number, limit: number): Promise<StoredEgressRecord[]>;
  /**
   * Deletes a delivered record; nothing to do when it is gone already. Owner only: once the
   * producer's partition changed hands it fails with SB_CLUSTER_OWNERSHIP_LOST, deleting
   * nothing, and the record is the new owner's to deliver (again: delivery is at least once).
   */
  delete(seq: number): Promise<void>;
  /** Removes and returns the oldest record of an egress topic, exactly once across readers. */
  pop(egress: string, topic: string): Promise<StoredEgressRecord | undefined>;
  count(): Promise<number>;
}

/** Group-commit figures for the admin page and /api/overview. */
export interface StoreStats {
  /** Group commits (transactions) that committed. */
  readonly commits: number;
  /** Units of work in those commits. */
  readonly units: number;
  /** Units in the most recent commit. */
  readonly lastGroupSize: number;
  /** How long the most recent commit took, durability included, in microseconds. */
  readonly lastCommitMicros: number;
}

/** The durable store the runtime runs on. */
export interface StoreBackend {
  /** "sqlite" (embedded, one instance) or "postgres" (shared by a cluster). */
  readonly kind: "sqlite" | "postgres";
  /**
   * Every message is stored through this instance, which sees each one arrive (the embedded
   * store): dispatch may then keep an address's newest messages in hand and send them without
   * reading them back. False where other instances store messages too.
   */
  readonly soleWriter: boolean;
  readonly messages: MessageStore;
  readonly state: StateStore;
  readonly specs: SpecStore;
  readonly suspensions: SuspensionStore;
  readonly deadLetters: DeadLetterStore;
  readonly timers: TimerStore;
  readonly egress: EgressStore;
  /**
   * Applies a result in one unit, in StateFun's order: outgoing messages, delayed messages
   * and cancellations (in list order), egress, state mutations; then refreshes AFTER_INVOKE
   * expiry, consumes the batch and (when asked) clears the suspension. Owner only.
   */
  applyResult(write: ResultWrite): Promise<AppliedResult>;
  /** An address's next batch with its state (and, when asked, its backlog's count). Owner only. */
  readBatch(request: BatchReadRequest): Promise<BatchRead>;
  /**
   * False once the store is closed (or, on PostgreSQL, its connection pool ended): what
   * /readyz reports. Answered from memory, without a query, so probes and scrapes cost the
   * store nothing; a database that is unreachable shows in the writes that fail instead.
   */
  readonly isOpen: boolean;
  /** Group-commit figures, counted in memory as commits happen. */
  stats(): StoreStats;
  /** Tells `listener` of every group commit (how many units, how long it took): must be cheap. */
  observeCommits(listener: (groupSize: number, seconds: number) => void): void;
  /** Makes everything written durable and releases the store. */
  close(): Promise<void>;
}
