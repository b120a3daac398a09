import type {
  FromFunction_InvocationResponse,
  FromFunction_PersistedValueSpec,
} from "@switchboard/sdk/protocol";
import { endpointLabel } from "../config/endpoint-label.js";
import type { FunctionRouter } from "../config/model.js";
import { ClusterErrors } from "../errors/cluster-errors.js";
import { DispatchErrors } from "../errors/dispatch-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { buildBatchRequest } from "../invoke/build-request.js";
import { encodeBatchRequest } from "../invoke/encode-request.js";
import type { FunctionInvoker } from "../invoke/function-invoker.js";
import type { EgressDirectory } from "../io/egress-sink.js";
import type { BatchRead, OwnerClaim, StoreBackend } from "../store/contract.js";
import type {
  AddressRef,
  AddressRow,
  DeadLetter,
  ExpireMode,
  NewMessage,
  StateSpec,
  StateValue,
  StoredMessage,
} from "../store/records.js";
import { Cancellation } from "../transport/cancellation.js";

import { addressKey, formatAddress } from "./address.js";
import { BacklogScanner, type Consideration } from "./backlog-scanner.js";
import { DelayedMessageScheduler } from "./delayed-messages.js";
import type { DispatchObserver } from "./dispatch-observer.js";
import { EndpointBackoff, type EndpointDown } from "./endpoint-backoff.js";
import {
  DEFAULT_ENDPOINT_BREAKER,
  type EndpointBreakerOptions,
  type EndpointHealth,
} from "./endpoint-health.js";
import { HeldMessages } from "./held-messages.js";
import { InFlightLimiter } from "./in-flight-limiter.js";
import { LatencyWindow } from "./latency-window.js";
import { type Logger, redactUrls, silentLogger } from "./logger.js";
import { Mailbox } from "./mailbox.js";
import { planResult, type ResultPlan } from "./plan-result.js";
import { StateRegistry } from "./state-registry.js";

export interface DispatcherOptions {
  readonly store: StoreBackend;
  readonly router: FunctionRouter;
  readonly invoker: FunctionInvoker;
  readonly egress: EgressDirectory;
  readonly logger?: Logger;
  readonly clock?: () => number;
  /** Global cap on batches in flight (StateFun: statefun.async.max-per-task). */
  readonly maxInFlight?: number;
  /**
   * Addresses held in memory at once (those with work, not counting suspended ones). The
   * rest of the backlog waits in the store; this bounds memory whatever is queued.
   */
  readonly maxActiveAddresses?: number;
  /**
   * With a store only this instance writes: how many stored messages, across addresses, may be
   * kept in hand to send without reading them back (default 16,384; 0: every batch is read).
   */
  readonly maxHeldMessages?: number;
  /** Backoff for retrying a suspended address: doubles from `initialMs` up to `maxMs`. */
  readonly suspendBackoff?: { readonly initialMs: number; readonly maxMs: number };
  /** When an endpoint counts as down, and how it is probed (see EndpointHealth). */
  readonly endpointBreaker?: Partial<EndpointBreakerOptions>;
  /** How many IncompleteInvocationContext round trips one batch may take. */
  readonly maxRegistrationRounds?: number;
  /** Metrics hook; absent = nothing is counted beyond stats(). */
  readonly observer?: DispatchObserver;
  /**
   * In a cluster: this instance's claim on the address's partition now, or undefined when
   * another instance owns it. Messages for other instances' addresses are only stored here
   * (their owner is notified by the store), and this instance never dispatches them; a batch
   * commits only under the claim it was read with. Absent: this instance owns every address.
   */
  readonly claim?: (address: AddressRef) => OwnerClaim | undefined;
}

export interface DispatcherStats {
  readonly accepted: number;
  readonly applied: number;
  readonly failedBatches: number;
  /** Addresses held in memory (with work, suspended, or in flight). */
  readonly addresses: number;
  readonly inFlight: number;
  readonly waitingForSlot: number;
  /** Messages waiting for the addresses held in memory (parked addresses' are in the store only). */
  readonly backlog: number;
  readonly suspended: number;
  readonly backpressured: number;
  readonly delayedPending: number;
  /** Endpoints marked down, whose addresses are parked. */
  readonly endpointsDown: number;
  /** Copies of stored messages held to send without reading them back (embedded store only). */
  readonly heldMessages: number;
}

export interface SuspendedAddress {
  readonly address: string;
  readonly failures: number;
  readonly retryAt: number;
  readonly backlog: number;
  readonly lastError?: { readonly code: string; readonly message: string };
}

/** How often expired state rows are deleted (they are never read once expired). */
const PURGE_INTERVAL_MS = 60_000;

/** In-flight batches sent before this many more are admitted (StateFun's documented default). */
const DEFAULT_MAX_IN_FLIGHT = 1024;

/** Addresses held in memory; each costs a few hundred bytes, and none holds its messages. */
const DEFAULT_MAX_ACTIVE_ADDRESSES = 8192;

/** Copies of stored messages kept in hand; a few MB at typical payloads (see HeldMessages). */
const DEFAULT_MAX_HELD_MESSAGES = 16_384;

/** Where an address to take into memory came from: the backlog scan, or a message just stored. */
type AdmissionSource = "backlog" | "arrived";

const EMPTY_PLAN: ResultPlan = { outgoing: [], delayed: [], egress: [], mutations: [] };

/**
 * The heart of the runtime. Accepted messages stay in the store; dispatch holds a bounded
 * set of addresses in memory (mailboxes), keeps one batch in flight per address, applies
 * each reply atomically and reads the address's next batch from the store. A failing address
 * is suspended and retried with backoff; a failing endpoint is backed off as a whole (its
 * addresses parked in the store, one probe at a time). Neither stalls anything else.
 */
export class Dispatcher {
  private readonly mailboxes = new Map<string, Mailbox>();
  /** Ingress messages being committed for addresses not in memory (back-pressure counts them). */
  private readonly reservations = new Map<string, number>();
  private readonly endpoints: EndpointBackoff;
  private readonly scanner: BacklogScanner;
  private readonly limiter: InFlightLimiter;
  /** Copies of stored messages kept in hand to send without a read; only where this instance alone writes. */
  private readonly held: HeldMessages | undefined;
  private readonly registry = new StateRegistry(new Map());
  private readonly scheduler: DelayedMessageScheduler;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly owns: (address: AddressRef) => boolean;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly maxRounds: number;
  private readonly maxActive: number;
  private readonly maxWaiting: number;
  private suspendedCount = 0;
  private stopping = false;
  private purgeTimer: NodeJS.Timeout | undefined;
  private accepted = 0;
  private applied = 0;
  private failedBatches = 0;
  private readonly settledWaiters: Array<() => void> = [];
  /** Resolved when stopping and the last batch in flight has been applied. */
  private readonly drainWaiters: Array<() => void> = [];
  /** Accepted-to-applied latency of each applied message (ms). */
  readonly applyLatency = new LatencyWindow();
  /** Messages per applied batch. */
  readonly batchSizes = new LatencyWindow(4096);

  constructor(private readonly options: DispatcherOptions) {
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? Date.now;
    const { claim } = options;
    this.owns = claim ? (address) => claim(address) !== undefined : () => true;
    const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.limiter = new InFlightLimiter(maxInFlight);
    const maxHeld = options.maxHeldMessages ?? DEFAULT_MAX_HELD_MESSAGES;
    this.held = options.store.soleWriter && maxHeld > 0 ? new HeldMessages(maxHeld) : undefined;
    this.maxActive = options.maxActiveAddresses ?? DEFAULT_MAX_ACTIVE_ADDRESSES;
    this.maxWaiting = maxInFlight;
    this.backoff = options.suspendBackoff ?? { initialMs: 1000, maxMs: 60_000 };
    this.endpoints = new EndpointBackoff(
      options.router,
      options.store.messages,
      { ...DEFAULT_ENDPOINT_BREAKER, ...options.endpointBreaker },
      this.logger,
      this.clock,
      {
        abandonCalls: (health) => {
          for (const mailbox of this.mailboxes.values()) {
            if (mailbox.abort && !mailbox.probe && this.endpoints.of(mailbox.address.fn) === health) {
              mailbox.abort.abort();
            }
          }
        },
        probe: (address) => this.probe(address),
        // Its parked addresses are in the store only: read it again from the start.
        resumed: () => this.scanner.rewind(),
      },
    );
    this.maxRounds = options.maxRegistrationRounds ?? 8;
    this.scanner = new BacklogScanner({
      page: (afterSeq, limit) =>
        options.store.messages.pageAfterSkipping(afterSeq, limit, this.endpoints.parkedTypes()),
      consider: (row) => this.consider(row, "backlog"),
      hasRoom: () => this.hasRoomFor("backlog"),
      onError: (error) =>
        this.logger.warn({ err: error }, "reading the stored backlog failed; will try again"),
    });
    this.scheduler = new DelayedMessageScheduler(
      options.store.timers,
      (messages) => {
        for (const message of messages) this.stored(message);
      },
      this.clock,
      this.logger,
    );
  }

  /**
   * Starts dispatching what the store holds: suspended addresses keep their backoff, and the
   * backlog is read from the store a page at a time (never loaded whole), so starting takes
   * the same time with a million queued messages as with none.
   */
  async start(): Promise<void> {
    const { store } = this.options;
    for (const [fn, specs] of await store.specs.all()) this.registry.add(fn, specs);
    await this.restoreSuspensions();
    this.scanner.rewind();
    this.scheduler.start();
    this.purgeTimer = setInterval(() => void this.purgeExpiredState(), PURGE_INTERVAL_MS);
    this.purgeTimer.unref?.();
  }

  /**
   * Cluster: this instance took partitions. Their suspensions, backlogs and timers are in the
   * store only: suspensions are restored first, so a suspended address keeps its backoff.
   */
  async ownershipGained(): Promise<void> {
    if (this.stopping) return;
    try {
      await this.restoreSuspensions();
    } catch (error) {
      this.logger.warn({ err: error }, "reading the suspensions of gained partitions failed");
    }
    if (this.stopping) return;
    this.scanner.rewind();
    this.scheduler.start();
  }

  /**
   * Cluster: partitions were taken from this instance. Their addresses leave memory at once;
   * a batch in flight is abandoned (the store's fencing would refuse its result anyway), and
   * its messages stay stored for the new owner.
   */
  ownershipLost(): void {
    for (const mailbox of [...this.mailboxes.values()]) {
      if (this.owns(mailbox.address)) continue;
      this.release(mailbox);
    }
    this.notifyIfSettled();
  }

  /**
   * Cluster: another instance stored messages for this instance's partitions, the lowest seq
   * `fromSeq` (undefined: unknown, so the whole backlog is read again).
   */
  messagesStoredElsewhere(fromSeq?: number): void {
    if (!this.stopping) this.scanner.lookBack(fromSeq);
  }

  /**
   * Durably accepts a message from ingress. Rejects (changing nothing) when no endpoint
   * serves the target, when the address is back-pressured, or while stopping.
   */
  async accept(message: NewMessage): Promise<StoredMessage> {
    if (this.stopping) throw new SwitchboardError(DispatchErrors.STOPPING, "Switchboard is shutting down");
    const resolved = this.options.router.tryResolve(message.target.fn);
    if (!resolved) {
      throw new SwitchboardError(
        DispatchErrors.UNKNOWN_FUNCTION,
        `no endpoint serves function type ${message.target.fn}`,
        {
          fn: message.target.fn,
        },
      );
    }
    const { store } = this.options;
    const key = addressKey(message.target);
    const limit = resolved.endpoint.maxNumBatchRequests;
    // Reserved before the count is read, so concurrent accepts for one address see each other.
    const reserved = this.reserve(key, 1);
    let stored: StoredMessage | undefined;
    // The store counted nothing else for the address: the message is its whole backlog.
    let alone = false;
    try {
      const mailbox = this.mailboxes.get(key);
      // Room for this message besides the ones this instance is accepting for the address now.
      const maxWaiting = limit - (reserved - 1);
      if (mailbox && !mailbox.reading && !mailbox.uncounted) {
        // Counted in memory: the store is asked only to store.
        if (mailbox.queued < maxWaiting) stored = await store.messages.accept(message, this.clock());
      } else if (!Number.isFinite(maxWaiting)) {
        stored = await store.messages.accept(message, this.clock());
      } else if (maxWaiting > 0) {
        const accepted = await store.messages.acceptBounded(message, this.clock(), maxWaiting);
        stored = accepted?.message;
        alone = accepted?.waitingBefore === 0;
      }
    } finally {
      this.reserve(key, -1);
    }
    if (!stored) {
      throw new SwitchboardError(
        DispatchErrors.BACKPRESSURE,
        `${formatAddress(message.target)} has ${limit} messages waiting (maxNumBatchRequests); retry later`,
        { address: formatAddress(message.target), limit },
      );
    }
    this.accepted++;
    this.options.observer?.accepted(message.target.fn);
    this.stored(stored, alone);
    return stored;
  }

  /**
   * Stores a dead letter's message again for dispatch (deleting the dead letter in the same
   * unit). Not back-pressured, like messages from functions. Undefined when there is no such
   * dead letter.
   */
  async reinjectDeadLetter(seq: number): Promise<StoredMessage | undefined> {
    if (this.stopping) throw new SwitchboardError(DispatchErrors.STOPPING, "Switchboard is shutting down");
    const { store } = this.options;
    const letter = await store.deadLetters.get(seq);
    if (!letter) return undefined;
    const { fn } = letter.message.target;
    if (!this.options.router.tryResolve(fn)) {
      throw new SwitchboardError(DispatchErrors.UNKNOWN_FUNCTION, `no endpoint serves function type ${fn}`, {
        fn,
      });
    }
    const stored = await store.deadLetters.reinject(seq, this.clock());
    if (!stored) return undefined;
    this.accepted++;
    this.options.observer?.accepted(fn);
    this.stored(stored);
    return stored;
  }

  /**
   * Moves a suspended address's backlog to the dead-letter store (and clears its suspension)
   * in one unit. Returns the new dead letters, or undefined unless the address is suspended
   * with no batch in flight.
   */
  async deadLetterBacklog(address: AddressRef): Promise<DeadLetter[] | undefined> {
    const mailbox = this.mailboxes.get(addressKey(address));
    if (!mailbox?.suspended || mailbox.inFlight || mailbox.waitingForSlot || mailbox.reading)
      return undefined;
    const error = mailbox.lastError ?? { code: "SB_INTERNAL", message: "unknown" };
    if (mailbox.retryTimer) clearTimeout(mailbox.retryTimer);
    mailbox.retryTimer = undefined;
    let moved: DeadLetter[];
    try {
      moved = await this.options.store.deadLetters.moveBacklog(address, error, this.clock());
    } catch (failure) {
      this.armRetry(mailbox);
      throw failure;
    }
    mailbox.forgetKnown();
    mailbox.queued = 0;
    for (const letter of moved) {
      if (letter.message.seq > mailbox.countedThrough) mailbox.countedThrough = letter.message.seq;
    }
    this.setFailures(mailbox, 0);
    mailbox.retryAt = 0;
    mailbox.lastError = undefined;
    this.kick(mailbox);
    this.notifyIfSettled();
    return moved;
  }

  /** Whether a batch of this address is in flight now (admin read-out). */
  isInFlight(address: AddressRef): boolean {
    return this.mailboxes.get(addressKey(address))?.inFlight !== undefined;
  }

  /** Lifts a suspension now instead of waiting for its backoff. */
  retryNow(address: AddressRef): boolean {
    const mailbox = this.mailboxes.get(addressKey(address));
    if (!mailbox?.suspended) return false;
    mailbox.retryAt = 0;
    if (mailbox.retryTimer) clearTimeout(mailbox.retryTimer);
    mailbox.retryTimer = undefined;
    this.kick(mailbox);
    return true;
  }

  stats(): DispatcherStats {
    let backlog = 0;
    let backpressured = 0;
    for (const mailbox of this.mailboxes.values()) {
      backlog += mailbox.queued;
      const limit =
        this.options.router.tryResolve(mailbox.address.fn)?.endpoint.maxNumBatchRequests ?? Infinity;
      if (mailbox.queued >= limit) backpressured++;
    }
    return {
      accepted: this.accepted,
      applied: this.applied,
      failedBatches: this.failedBatches,
      addresses: this.mailboxes.size,
      inFlight: this.limiter.active,
      waitingForSlot: this.limiter.queued,
      backlog,
      suspended: this.suspendedCount,
      backpressured,
      delayedPending: this.scheduler.pending(),
      endpointsDown: this.endpointsDown().length,
      heldMessages: this.held?.held.messages ?? 0,
    };
  }

  suspendedAddresses(): SuspendedAddress[] {
    return [...this.mailboxes.values()]
      .filter((mailbox) => mailbox.suspended)
      .map((mailbox) => ({
        address: formatAddress(mailbox.address),
        failures: mailbox.failures,
        retryAt: mailbox.retryAt,
        backlog: mailbox.queued + (mailbox.inFlight?.length ?? 0),
        ...(mailbox.lastError ? { lastError: mailbox.lastError } : {}),
      }));
  }

  /** Endpoints backed off as a whole, with what they are holding back. */
  endpointsDown(): EndpointDown[] {
    return this.endpoints.down();
  }

  registeredSpecs(): ReadonlyMap<string, readonly StateSpec[]> {
    return this.registry.all();
  }

  /**
   * Resolves when no batch is in flight or waiting and the stored backlog has been read,
   * apart from suspended addresses and endpoints that are down.
   */
  settled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /**
   * Stops taking work and sending batches, waits (up to `graceMs`) for the batches already in
   * flight to be applied, then abandons the rest. Backlogs stay stored for the next start.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.scanner.stop();
    this.scheduler.stop();
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    this.endpoints.stop();
    this.limiter.clearWaiting();
    for (const mailbox of this.mailboxes.values()) {
      mailbox.waitingForSlot = false;
      if (mailbox.retryTimer) clearTimeout(mailbox.retryTimer);
      mailbox.retryTimer = undefined;
    }
    if (this.limiter.active === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    // Whatever is still in flight is abandoned: its messages stay stored for the next start.
    for (const mailbox of this.mailboxes.values()) mailbox.abort?.abort();
  }

  /**
   * A message is durably stored: count it for its address, or let the scanner find the
   * address. `alone`: the store counted no other message for the address when it stored it.
   */
  private stored(message: StoredMessage, alone = false): void {
    if (!this.owns(message.target)) return;
    const key = addressKey(message.target);
    const mailbox = this.mailboxes.get(key);
    if (mailbox) {
      mailbox.arrived(message);
      this.kick(mailbox);
      return;
    }
    // New work is taken at once while memory has room, even when the scanner is still walking
    // an older backlog (an endpoint back from an outage): it must not wait behind that backlog.
    const row = { seq: message.seq, fn: message.target.fn, id: message.target.id };
    if (this.consider(row, "arrived", alone ? message : undefined) === "full")
      this.scanner.leftForLater(row.seq);
    else this.scanner.handled(row.seq);
  }

  /**
   * A stored message of `row`'s address, found by the scanner or just stored. `only`: that
   * message, when the store said it is its address's only one.
   */
  private consider(row: AddressRow, source: AdmissionSource, only?: StoredMessage): Consideration {
    const key = addressKey(row);
    const resident = this.mailboxes.get(key);
    if (resident) {
      // Usually counted already (counting is once per seq); in a cluster, another instance
      // may have stored it, and only this read tells.
      resident.counted(row.seq);
      this.kick(resident);
      return "skipped";
    }
    if (!this.owns(row)) return "skipped";
    const health = this.endpoints.of(row.fn);
    if (health?.down) {
      health.messagesWhileDown++;
      health.parkedTypes.add(row.fn);
      return "skipped";
    }
    if (!this.hasRoomFor(source)) return "full";
    if (!this.options.router.tryResolve(row.fn)) return "skipped";
    this.admit(this.mailbox({ fn: row.fn, id: row.id }), only);
    return "taken";
  }

  /**
   * Room for another address: under the cap of addresses in memory. The backlog scan also
   * stops while many addresses already wait for an in-flight slot (reading more would only
   * queue them in memory); a message that just arrived is taken regardless, so it waits for a
   * slot in its own lane instead of behind everything the scan has still to read.
   */
  private hasRoomFor(source: AdmissionSource): boolean {
    if (this.mailboxes.size - this.suspendedCount >= this.maxActive) return false;
    return source === "arrived" || this.limiter.queued < this.maxWaiting;
  }

  /**
   * Takes an address with stored messages into memory. Its backlog is counted by its first
   * batch read, in the same store read: until then it counts as one message. Unless `only`,
   * the message just stored, is the whole backlog: then there is nothing to count or read.
   */
  private admit(mailbox: Mailbox, only?: StoredMessage): void {
    if (only && mailbox.queued === 0 && !mailbox.reading) {
      mailbox.startKnown(only);
    } else {
      mailbox.uncounted = true;
      mailbox.forgetKnown();
      if (mailbox.queued === 0) mailbox.queued = 1;
    }
    this.kick(mailbox);
  }

  /** Adds `delta` to an address's ingress reservations; returns the new total. */
  private reserve(key: string, delta: number): number {
    const mailbox = this.mailboxes.get(key);
    if (mailbox) {
      mailbox.reserved += delta;
      if (delta < 0) this.forgetIfIdle(mailbox);
      return mailbox.reserved;
    }
    const next = (this.reservations.get(key) ?? 0) + delta;
    if (next > 0) this.reservations.set(key, next);
    else this.reservations.delete(key);
    return next;
  }

  private mailbox(address: AddressRef): Mailbox {
    const key = addressKey(address);
    let mailbox = this.mailboxes.get(key);
    if (!mailbox) {
      mailbox = new Mailbox({ fn: address.fn, id: address.id }, this.held, key);
      const reserved = this.reservations.get(key);
      if (reserved !== undefined) {
        mailbox.reserved = reserved;
        this.reservations.delete(key);
      }
      this.mailboxes.set(key, mailbox);
    }
    return mailbox;
  }

  private setFailures(mailbox: Mailbox, failures: number): void {
    if (mailbox.failures === 0 && failures > 0) this.suspendedCount++;
    else if (mailbox.failures > 0 && failures === 0) this.suspendedCount--;
    mailbox.failures = failures;
  }

  private kick(mailbox: Mailbox): void {
    // A mailbox released meanwhile (its partition moved) sends nothing more.
    if (mailbox.reading || !this.holds(mailbox)) return;
    if (mailbox.inFlight || mailbox.waitingForSlot || mailbox.queued === 0) {
      this.forgetIfIdle(mailbox);
      return;
    }
    if (this.stopping) return;
    const now = this.clock();
    if (mailbox.suspended && now < mailbox.retryAt) {
      // A timer may fire a little before Date.now() reaches retryAt (libuv arms it from its
      // cached loop time): re-arm instead of leaving the address suspended for good.
      if (!mailbox.retryTimer) this.armRetry(mailbox);
      return;
    }
    const health = this.endpoints.of(mailbox.address.fn);
    if (health?.down && !mailbox.probe) {
      if (health.mayProbe(now)) {
        health.probing = true;
        mailbox.probe = true;
      } else {
        this.park(mailbox, health);
        return;
      }
    }
    mailbox.waitingForSlot = true;
    this.limiter.acquire(mailbox.address.fn, () => {
      mailbox.waitingForSlot = false;
      if (this.stopping || !this.holds(mailbox)) {
        // Granted after stop() or after its partition moved: the batch stays in the store.
        this.releaseSlot();
        return;
      }
      if (!mailbox.probe && this.endpoints.of(mailbox.address.fn)?.down) {
        // Its endpoint went down while it waited for the slot.
        this.releaseSlot();
        this.kick(mailbox);
        return;
      }
      void this.runBatch(mailbox);
    });
  }

  /**
   * Takes an address of a down endpoint out of memory; its messages wait in the store until
   * the endpoint is back. A suspended address stays, waiting for its own retry time.
   */
  private park(mailbox: Mailbox, health: EndpointHealth): void {
    if (mailbox.suspended) {
      health.parkedTypes.add(mailbox.address.fn);
      if (mailbox.retryAt < health.probeAt) mailbox.retryAt = health.probeAt;
      this.armRetry(mailbox);
      return;
    }
    if (mailbox.reserved > 0) return; // dropped once its ingress commits (forgetIfIdle)
    this.drop(mailbox);
    this.endpoints.parked(health, mailbox.address.fn);
  }

  /** Sends an address's next batch as its endpoint's probe. */
  private probe(address: AddressRef): boolean {
    const existing = this.mailboxes.get(addressKey(address));
    if (existing?.suspended) return false;
    const mailbox = existing ?? this.mailbox(address);
    mailbox.probe = true;
    if (existing) this.kick(mailbox);
    else this.admit(mailbox);
    return true;
  }

  private drop(mailbox: Mailbox): void {
    mailbox.forgetKnown();
    if (mailbox.retryTimer) clearTimeout(mailbox.retryTimer);
    mailbox.retryTimer = undefined;
    if (this.holds(mailbox)) this.mailboxes.delete(mailbox.key);
    this.scanner.wake();
  }

  private async runBatch(mailbox: Mailbox): Promise<void> {
    const self = mailbox.address;
    // Taken before anything is read: the result commits only if ownership did not change since.
    const claim = this.options.claim?.(self);
    if (this.options.claim && !claim) {
      this.releaseSlot();
      this.release(mailbox);
      this.notifyIfSettled();
      return;
    }
    const configured = this.options.router.tryResolve(self.fn)?.endpoint.maxNumBatchRequests ?? 1000;
    const limit = configured > 0 ? configured : 1000;
    let read: BatchRead;
    try {
      read = await this.nextBatch(mailbox, limit);
    } catch (error) {
      this.logger.warn({ err: error, address: formatAddress(self) }, "reading a batch failed; will retry");
      this.releaseSlot();
      await this.suspend(mailbox, error, []);
      this.kick(mailbox);
      return;
    }
    const batch = read.messages;
    if (batch.length === 0) {
      mailbox.probe = false;
      this.releaseSlot();
      this.kick(mailbox);
      this.notifyIfSettled();
      return;
    }
    mailbox.inFlight = batch;
    const abort = new Cancellation();
    mailbox.abort = abort;
    const health = this.endpoints.of(self.fn);
    const { key } = mailbox;
    try {
      const response = await this.invoke(self, batch, read.state, abort, (error) => {
        // A probe fails fast: one failed attempt says the endpoint is still down.
        if (mailbox.probe) abort.abort();
        else this.endpoints.failed(health, key, describe(error));
      });
      const now = this.clock();
      const plan = response
        ? planResult(self, response, {
            registry: this.registry,
            router: this.options.router,
            egress: this.options.egress,
            now,
          })
        : EMPTY_PLAN;
      const specs = this.registry.specsFor(self.fn);
      const wasSuspended = mailbox.suspended;
      const { store } = this.options;
      const committed = await store.applyResult({
        address: self,
        plan,
        consumed: batch.map((message) => message.seq),
        specs,
        clearSuspension: wasSuspended,
        now,
        ...(claim ? { claim } : {}),
      });
      if (wasSuspended) this.logger.info({ address: formatAddress(self) }, "address recovered");
      this.endpoints.succeeded(health);
      mailbox.probe = false;
      this.setFailures(mailbox, 0);
      mailbox.lastError = undefined;
      this.applied += batch.length;
      this.options.observer?.applied(self.fn, batch.length);
      const appliedAt = this.clock();
      for (const message of batch) this.applyLatency.record(appliedAt - message.acceptedAt);
      this.batchSizes.record(batch.length);
      for (const message of committed.outgoing) this.stored(message);
      if (committed.earliestTimer !== undefined) this.scheduler.scheduled(committed.earliestTimer);
      for (const id of committed.egressIds) this.options.egress.get(id)?.notify();
    } catch (error) {
      // Not consumed: the batch is still stored and goes out again.
      mailbox.inFlight = undefined;
      mailbox.putBack(batch);
      await this.failed(mailbox, health, error, batch);
    } finally {
      mailbox.inFlight = undefined;
      mailbox.abort = undefined;
      this.releaseSlot();
      this.kick(mailbox);
      this.notifyIfSettled();
    }
  }

  /**
   * An address's next batch with its state: the messages in hand when the mailbox holds them
   * all (only the state is read), else both read from the store, counting the backlog too
   * when it was not counted yet.
   */
  private async nextBatch(mailbox: Mailbox, limit: number): Promise<BatchRead> {
    const { store } = this.options;
    if (mailbox.known) {
      const messages = mailbox.takeKnown(limit);
      // In flight from here: the mailbox must not look idle (and be dropped) while state is read.
      mailbox.inFlight = messages;
      try {
        return { messages, state: await store.state.read(mailbox.address, this.clock()) };
      } catch (error) {
        mailbox.inFlight = undefined;
        mailbox.putBack(messages);
        throw error;
      }
    }
    mailbox.startReading();
    let read: BatchRead;
    try {
      read = await store.readBatch({
        address: mailbox.address,
        limit,
        now: this.clock(),
        withCount: mailbox.uncounted,
      });
    } catch (error) {
      mailbox.readFailed();
      throw error;
    }
    if (read.count) mailbox.countedBatchRead(read.messages, read.count);
    else mailbox.batchRead(read.messages, limit);
    return read;
  }

  /** A batch failed: the endpoint's failure (park, probe later) or this address's (suspend). */
  private async failed(
    mailbox: Mailbox,
    health: EndpointHealth | undefined,
    error: unknown,
    batch: readonly StoredMessage[],
  ): Promise<void> {
    if (this.stopping || !this.holds(mailbox)) return; // abandoned: stays stored, nothing to report
    if (error instanceof SwitchboardError && error.code === ClusterErrors.OWNERSHIP_LOST.code) {
      // Its partition moved before the ownership change reached dispatch: not the address's fault.
      this.release(mailbox);
      return;
    }
    this.failedBatches++;
    const cause = describe(error);
    const wasProbe = mailbox.probe;
    mailbox.probe = false;
    if (!health?.down) this.endpoints.failed(health, mailbox.key, cause);
    if (health?.down) {
      // The endpoint's failure, counted there and not against the address.
      if (wasProbe) this.endpoints.probeFailed(health, cause);
      this.options.observer?.failed(mailbox.address.fn, batch.length, cause.code);
      return;
    }
    await this.suspend(mailbox, error, batch);
  }

  /** Sends the batch, registering missing state specs and re-sending as often as asked. */
  private async invoke(
    self: AddressRef,
    batch: readonly StoredMessage[],
    values: ReadonlyMap<string, StateValue>,
    cancel: Cancellation,
    onRetry: (error: Error) => void,
  ): Promise<FromFunction_InvocationResponse | undefined> {
    const { store, invoker } = this.options;
    // `values` holds for every round: only this address's owner writes its state, and it
    // writes none until the batch's reply is applied.
    for (let round = 0; ; round++) {
      const now = this.clock();
      const specs = this.registry.specsFor(self.fn);
      const reply = invoker.invokeEncoded
        ? await invoker.invokeEncoded(self.fn, encodeBatchRequest(self, specs, values, batch), {
            id: self.id,
            batchSize: batch.length,
            cancel,
            onRetry,
          })
        : await invoker.invoke(self.fn, buildBatchRequest(self, specs, values, batch), { cancel, onRetry });
      if (cancel.aborted) throw cancel.reason;
      if (reply.response.case === "invocationResult") return reply.response.value;
      if (reply.response.case !== "incompleteInvocationContext") return undefined;
      if (round + 1 >= this.maxRounds) {
        throw new SwitchboardError(
          DispatchErrors.REGISTRATION_LOOP,
          `${formatAddress(self)} still reports missing state after ${this.maxRounds} registrations`,
          { address: formatAddress(self) },
        );
      }
      const fresh = this.registry.newSpecs(self.fn, reply.response.value.missingValues.map(toStateSpec));
      if (fresh.length > 0) {
        await store.specs.register(self.fn, fresh, now);
        this.registry.add(self.fn, fresh);
      }
    }
  }

  private async suspend(mailbox: Mailbox, error: unknown, batch: readonly StoredMessage[]): Promise<void> {
    this.setFailures(mailbox, mailbox.failures + 1);
    const now = this.clock();
    const base = Math.min(this.backoff.initialMs * 2 ** (mailbox.failures - 1), this.backoff.maxMs);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    mailbox.retryAt = now + delay;
    const { code, message } = describe(error);
    mailbox.lastError = { code, message };
    this.options.observer?.failed(mailbox.address.fn, batch.length, code);
    const resolved = this.options.router.tryResolve(mailbox.address.fn);
    this.logger.error(
      {
        address: formatAddress(mailbox.address),
        // The batch's first message seq: stable across retries and shown by the admin API.
        invocationId: String(batch[0]?.seq ?? ""),
        endpoint: resolved ? endpointLabel(resolved.endpoint) : undefined,
        code,
        failures: mailbox.failures,
        batch: batch.length,
        retryInMs: delay,
      },
      `batch failed, address suspended: ${message}`,
    );
    this.armRetry(mailbox);
    const { store } = this.options;
    try {
      await store.suspensions.upsert({
        address: mailbox.address,
        failures: mailbox.failures,
        errorCode: code,
        errorMessage: message,
        suspendedAt: now,
        retryAt: mailbox.retryAt,
      });
    } catch (storeError) {
      // The suspension stays in memory; only the read-out after a restart would miss it.
      if (!this.stopping) {
        this.logger.warn(
          { err: storeError, address: formatAddress(mailbox.address) },
          "could not record suspension",
        );
      }
    }
  }

  private armRetry(mailbox: Mailbox): void {
    if (mailbox.retryTimer) clearTimeout(mailbox.retryTimer);
    mailbox.retryTimer = setTimeout(
      () => {
        mailbox.retryTimer = undefined;
        this.kick(mailbox);
      },
      Math.max(0, mailbox.retryAt - this.clock()),
    );
    mailbox.retryTimer.unref?.();
  }

  /** Whether `mailbox` is the one dispatch holds for its address (not one released since). */
  private holds(mailbox: Mailbox): boolean {
    return this.mailboxes.get(mailbox.key) === mailbox;
  }

  /** Forgets an address whose partition this instance no longer owns. */
  private release(mailbox: Mailbox): void {
    mailbox.abort?.abort();
    mailbox.waitingForSlot = false;
    this.setFailures(mailbox, 0);
    this.drop(mailbox);
  }

  /** Restores stored suspensions of owned addresses not in memory, each with its backoff. */
  private async restoreSuspensions(): Promise<void> {
    for (const suspension of await this.options.store.suspensions.all()) {
      if (!this.owns(suspension.address) || this.mailboxes.has(addressKey(suspension.address))) continue;
      const mailbox = this.mailbox(suspension.address);
      this.setFailures(mailbox, suspension.failures);
      mailbox.retryAt = suspension.retryAt;
      mailbox.lastError = { code: suspension.errorCode, message: suspension.errorMessage };
      this.armRetry(mailbox);
    }
  }

  private forgetIfIdle(mailbox: Mailbox): void {
    if (mailbox.idle && !mailbox.suspended && !mailbox.probe) this.drop(mailbox);
  }

  private isSettled(): boolean {
    if (this.limiter.active > 0 || this.limiter.queued > 0 || !this.scanner.isCaughtUp) return false;
    if (this.reservations.size > 0) return false;
    for (const mailbox of this.mailboxes.values()) {
      // A mailbox still reading its count may hold messages it has not counted yet.
      if (!mailbox.suspended && (mailbox.queued > 0 || mailbox.reserved > 0 || mailbox.reading)) {
        if (!this.endpoints.of(mailbox.address.fn)?.down) return false;
      }
    }
    return true;
  }

  private async purgeExpiredState(): Promise<void> {
    const { store } = this.options;
    try {
      const removed = await store.state.purgeExpired(this.clock());
      if (removed > 0) this.logger.debug({ removed }, "purged expired state");
    } catch (error) {
      this.logger.warn({ err: error }, "purging expired state failed; will try again");
    }
  }

  private releaseSlot(): void {
    this.limiter.release();
    this.scanner.wake();
    if (this.stopping && this.limiter.active === 0) {
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }

  private notifyIfSettled(): void {
    if (this.settledWaiters.length === 0 || !this.isSettled()) return;
    for (const resolve of this.settledWaiters.splice(0)) resolve();
  }
}

function describe(error: unknown): { code: string; message: string } {
  return {
    code: error instanceof SwitchboardError ? error.code : "SB_INTERNAL",
    message: redactUrls(error instanceof Error ? error.message : String(error)),
  };
}

function toStateSpec(spec: FromFunction_PersistedValueSpec): StateSpec {
  return {
    name: spec.stateName,
    // StateFun's runtime substitutes this when the SDK leaves the type empty.
    typename: spec.typeTypename || "io.statefun.types/unset",
    expireMode: Number(spec.expirationSpec?.mode ?? 0) as ExpireMode,
    expireAfterMs: Number(spec.expirationSpec?.expireAfterMillis ?? 0n),
  };
}
