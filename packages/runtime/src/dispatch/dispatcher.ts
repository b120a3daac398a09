import type {
  FromFunction_InvocationResponse,
  FromFunction_PersistedValueSpec,
} from "@switchboard/sdk/protocol";
import { endpointLabel } from "../config/endpoint-label.js";
import type { FunctionRouter } from "../config/model.js";
import { DispatchErrors } from "../errors/dispatch-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { buildBatchRequest } from "../invoke/build-request.js";
import { encodeBatchRequest } from "../invoke/encode-request.js";
import type { FunctionInvoker } from "../invoke/function-invoker.js";
import type { EgressDirectory } from "../io/egress-sink.js";
import type { AddressRef, ExpireMode, NewMessage, StateSpec, StoredMessage } from "../store/records.js";
import type { Store } from "../store/store.js";
import { addressKey, formatAddress } from "./address.js";
import { commitResult } from "./commit-result.js";
import { DelayedMessageScheduler } from "./delayed-messages.js";
import type { DispatchObserver } from "./dispatch-observer.js";
import { InFlightLimiter } from "./in-flight-limiter.js";
import { LatencyWindow } from "./latency-window.js";
import { type Logger, redactUrls, silentLogger } from "./logger.js";
import { Mailbox } from "./mailbox.js";
import { planResult, type ResultPlan } from "./plan-result.js";
import { StateRegistry } from "./state-registry.js";

export interface DispatcherOptions {
  readonly store: Store;
  readonly router: FunctionRouter;
  readonly invoker: FunctionInvoker;
  readonly egress: EgressDirectory;
  readonly logger?: Logger;
  readonly clock?: () => number;
  /** Global cap on batches in flight (StateFun: statefun.async.max-per-task). */
  readonly maxInFlight?: number;
  /** Backoff for retrying a suspended address: doubles from `initialMs` up to `maxMs`. */
  readonly suspendBackoff?: { readonly initialMs: number; readonly maxMs: number };
  /** How many IncompleteInvocationContext round trips one batch may take. */
  readonly maxRegistrationRounds?: number;
  /** Metrics hook; absent = nothing is counted beyond stats(). */
  readonly observer?: DispatchObserver;
}

export interface DispatcherStats {
  readonly accepted: number;
  readonly applied: number;
  readonly failedBatches: number;
  readonly addresses: number;
  readonly inFlight: number;
  readonly waitingForSlot: number;
  readonly backlog: number;
  readonly suspended: number;
  readonly backpressured: number;
  readonly delayedPending: number;
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

const EMPTY_PLAN: ResultPlan = { outgoing: [], delayed: [], egress: [], mutations: [] };

/**
 * The heart of the runtime: routes accepted messages to per-address mailboxes, keeps one
 * batch in flight per address, applies each reply atomically and sends the backlog as the
 * next batch. A failing address is suspended and retried with backoff; it never stalls the
 * others.
 */
export class Dispatcher {
  private readonly mailboxes = new Map<string, Mailbox>();
  private readonly limiter: InFlightLimiter;
  private readonly registry: StateRegistry;
  private readonly scheduler: DelayedMessageScheduler;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly maxRounds: number;
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
    this.limiter = new InFlightLimiter(options.maxInFlight ?? 32_768);
    this.backoff = options.suspendBackoff ?? { initialMs: 1000, maxMs: 60_000 };
    this.maxRounds = options.maxRegistrationRounds ?? 8;
    this.registry = new StateRegistry(options.store.specs.all());
    this.scheduler = new DelayedMessageScheduler(
      options.store,
      (messages) => {
        for (const message of messages) this.enqueue(message);
      },
      this.clock,
      this.logger,
    );
  }

  /** Recovers everything the store holds: backlogs (in-flight batches first), suspensions, timers. */
  start(): void {
    const { store } = this.options;
    for (const suspension of store.suspensions.all()) {
      const mailbox = this.mailbox(suspension.address);
      mailbox.failures = suspension.failures;
      mailbox.retryAt = suspension.retryAt;
      mailbox.lastError = { code: suspension.errorCode, message: suspension.errorMessage };
      this.armRetry(mailbox);
    }
    const recovered = store.messages.all();
    for (const message of recovered) this.mailbox(message.target).backlog.push(message);
    if (recovered.length > 0) {
      this.logger.info(
        { messages: recovered.length, addresses: this.mailboxes.size },
        "recovered stored messages",
      );
    }
    for (const mailbox of this.mailboxes.values()) this.kick(mailbox);
    this.scheduler.start();
    this.purgeTimer = setInterval(() => void this.purgeExpiredState(), PURGE_INTERVAL_MS);
    this.purgeTimer.unref?.();
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
    const mailbox = this.mailbox(message.target);
    const limit = resolved.endpoint.maxNumBatchRequests;
    if (mailbox.backlog.length + mailbox.reserved >= limit) {
      throw new SwitchboardError(
        DispatchErrors.BACKPRESSURE,
        `${formatAddress(message.target)} has ${limit} messages waiting (maxNumBatchRequests); retry later`,
        { address: formatAddress(message.target), limit },
      );
    }
    mailbox.reserved++;
    let stored: StoredMessage;
    try {
      // One INSERT: atomic on its own, so it skips the per-unit savepoint.
      const { store } = this.options;
      const now = this.clock();
      stored = await store.commits.submitStatement(() => store.messages.insert(message, now));
    } finally {
      mailbox.reserved--;
    }
    this.accepted++;
    this.options.observer?.accepted(message.target.fn);
    this.enqueue(stored);
    return stored;
  }

  /**
   * Accepts a message whose insert shares one commit with `alongside` (re-injecting a dead
   * letter: insert and delete are atomic). Not back-pressured, like messages from functions.
   */
  async reinject(message: NewMessage, alongside: () => void): Promise<StoredMessage> {
    if (this.stopping) throw new SwitchboardError(DispatchErrors.STOPPING, "Switchboard is shutting down");
    if (!this.options.router.tryResolve(message.target.fn)) {
      throw new SwitchboardError(
        DispatchErrors.UNKNOWN_FUNCTION,
        `no endpoint serves function type ${message.target.fn}`,
        { fn: message.target.fn },
      );
    }
    const { store } = this.options;
    const stored = await store.commits.submit(() => {
      const inserted = store.messages.insert(message, this.clock());
      alongside();
      return inserted;
    });
    this.accepted++;
    this.options.observer?.accepted(message.target.fn);
    this.enqueue(stored);
    return stored;
  }

  /**
   * Takes a suspended address's backlog out of dispatch: in one commit, `moveEach` stores
   * each message elsewhere (the dead-letter store), the messages and the suspension are
   * deleted. Returns undefined unless the address is suspended with no batch in flight.
   */
  async removeSuspendedBacklog(
    address: AddressRef,
    moveEach: (message: StoredMessage, error: { code: string; message: string }) => void,
  ): Promise<StoredMessage[] | undefined> {
    const mailbox = this.mailboxes.get(addressKey(address));
    if (!mailbox?.suspended || mailbox.inFlight || mailbox.waitingForSlot) return undefined;
    const taken = mailbox.backlog;
    const error = mailbox.lastError ?? { code: "SB_INTERNAL", message: "unknown" };
    mailbox.backlog = [];
    if (mailbox.retryTimer) clearTimeout(mailbox.retryTimer);
    mailbox.retryTimer = undefined;
    const { store } = this.options;
    try {
      await store.commits.submit(() => {
        for (const message of taken) {
          moveEach(message, error);
          store.messages.delete(message.seq);
        }
        store.suspensions.delete(address);
      });
    } catch (failure) {
      mailbox.backlog = [...taken, ...mailbox.backlog];
      this.armRetry(mailbox);
      throw failure;
    }
    mailbox.failures = 0;
    mailbox.retryAt = 0;
    mailbox.lastError = undefined;
    this.kick(mailbox);
    this.notifyIfSettled();
    return taken;
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
    let suspended = 0;
    let backpressured = 0;
    for (const mailbox of this.mailboxes.values()) {
      backlog += mailbox.backlog.length;
      if (mailbox.suspended) suspended++;
      const limit =
        this.options.router.tryResolve(mailbox.address.fn)?.endpoint.maxNumBatchRequests ?? Infinity;
      if (mailbox.backlog.length >= limit) backpressured++;
    }
    return {
      accepted: this.accepted,
      applied: this.applied,
      failedBatches: this.failedBatches,
      addresses: this.mailboxes.size,
      inFlight: this.limiter.active,
      waitingForSlot: this.limiter.queued,
      backlog,
      suspended,
      backpressured,
      delayedPending: this.scheduler.pending(),
    };
  }

  suspendedAddresses(): SuspendedAddress[] {
    return [...this.mailboxes.values()]
      .filter((mailbox) => mailbox.suspended)
      .map((mailbox) => ({
        address: formatAddress(mailbox.address),
        failures: mailbox.failures,
        retryAt: mailbox.retryAt,
        backlog: mailbox.backlog.length,
        ...(mailbox.lastError ? { lastError: mailbox.lastError } : {}),
      }));
  }

  registeredSpecs(): ReadonlyMap<string, readonly StateSpec[]> {
    return this.registry.all();
  }

  /** Resolves when no batch is in flight or waiting, apart from suspended addresses. */
  settled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /**
   * Stops taking work and sending batches, waits (up to `graceMs`) for the batches already in
   * flight to be applied, stops timers. Backlogs stay stored for the next start.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.scheduler.stop();
    if (this.purgeTimer) clearInterval(this.purgeTimer);
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
  }

  private enqueue(message: StoredMessage): void {
    const mailbox = this.mailbox(message.target);
    mailbox.backlog.push(message);
    this.kick(mailbox);
  }

  private mailbox(address: AddressRef): Mailbox {
    const key = addressKey(address);
    let mailbox = this.mailboxes.get(key);
    if (!mailbox) {
      mailbox = new Mailbox({ fn: address.fn, id: address.id });
      this.mailboxes.set(key, mailbox);
    }
    return mailbox;
  }

  private kick(mailbox: Mailbox): void {
    if (mailbox.inFlight || mailbox.waitingForSlot || mailbox.backlog.length === 0) {
      this.forgetIfIdle(mailbox);
      return;
    }
    if (this.stopping) return;
    if (mailbox.suspended && this.clock() < mailbox.retryAt) {
      // A timer may fire a little before Date.now() reaches retryAt (libuv arms it from its
      // cached loop time): re-arm instead of leaving the address suspended for good.
      if (!mailbox.retryTimer) this.armRetry(mailbox);
      return;
    }
    mailbox.waitingForSlot = true;
    this.limiter.acquire(() => {
      mailbox.waitingForSlot = false;
      if (this.stopping) {
        // Granted after stop(): the batch stays in the backlog (and the store) for the next start.
        this.releaseSlot();
        return;
      }
      void this.runBatch(mailbox);
    });
  }

  private async runBatch(mailbox: Mailbox): Promise<void> {
    const batch = mailbox.backlog;
    mailbox.backlog = [];
    mailbox.inFlight = batch;
    const self = mailbox.address;
    try {
      const response = await this.invoke(self, batch);
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
      const committed = await store.commits.submit(() => {
        const result = commitResult(store, self, plan, batch, specs, now);
        if (wasSuspended) store.suspensions.delete(self);
        return result;
      });
      if (wasSuspended) this.logger.info({ address: formatAddress(self) }, "address recovered");
      mailbox.failures = 0;
      mailbox.lastError = undefined;
      this.applied += batch.length;
      this.options.observer?.applied(self.fn, batch.length);
      const appliedAt = this.clock();
      for (const message of batch) this.applyLatency.record(appliedAt - message.acceptedAt);
      this.batchSizes.record(batch.length);
      for (const message of committed.outgoing) this.enqueue(message);
      if (committed.earliestTimer !== undefined) this.scheduler.scheduled(committed.earliestTimer);
      for (const id of committed.egressIds) this.options.egress.get(id)?.notify();
    } catch (error) {
      mailbox.backlog = [...batch, ...mailbox.backlog];
      this.failedBatches++;
      await this.suspend(mailbox, error, batch);
    } finally {
      mailbox.inFlight = undefined;
      this.releaseSlot();
      this.kick(mailbox);
      this.notifyIfSettled();
    }
  }

  /** Sends the batch, registering missing state specs and re-sending as often as asked. */
  private async invoke(
    self: AddressRef,
    batch: readonly StoredMessage[],
  ): Promise<FromFunction_InvocationResponse | undefined> {
    const { store, invoker } = this.options;
    for (let round = 0; ; round++) {
      const now = this.clock();
      const specs = this.registry.specsFor(self.fn);
      const values = store.state.read(self, now);
      const reply = invoker.invokeEncoded
        ? await invoker.invokeEncoded(self.fn, encodeBatchRequest(self, specs, values, batch), {
            id: self.id,
            batchSize: batch.length,
          })
        : await invoker.invoke(self.fn, buildBatchRequest(self, specs, values, batch));
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
        await store.commits.submit(() => {
          for (const spec of fresh) store.specs.insert(self.fn, spec, now);
        });
        this.registry.add(self.fn, fresh);
      }
    }
  }

  private async suspend(mailbox: Mailbox, error: unknown, batch: readonly StoredMessage[]): Promise<void> {
    mailbox.failures++;
    const now = this.clock();
    const base = Math.min(this.backoff.initialMs * 2 ** (mailbox.failures - 1), this.backoff.maxMs);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    mailbox.retryAt = now + delay;
    const code = error instanceof SwitchboardError ? error.code : "SB_INTERNAL";
    const message = redactUrls(error instanceof Error ? error.message : String(error));
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
      await store.commits.submit(() =>
        store.suspensions.upsert({
          address: mailbox.address,
          failures: mailbox.failures,
          errorCode: code,
          errorMessage: message,
          suspendedAt: now,
          retryAt: mailbox.retryAt,
        }),
      );
    } catch (storeError) {
      // The suspension stays in memory; only the read-out after a restart would miss it.
      this.logger.warn(
        { err: storeError, address: formatAddress(mailbox.address) },
        "could not record suspension",
      );
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

  private forgetIfIdle(mailbox: Mailbox): void {
    if (mailbox.idle && !mailbox.suspended && mailbox.reserved === 0) {
      this.mailboxes.delete(addressKey(mailbox.address));
    }
  }

  private isSettled(): boolean {
    if (this.limiter.active > 0 || this.limiter.queued > 0) return false;
    for (const mailbox of this.mailboxes.values()) {
      if (!mailbox.suspended && (mailbox.backlog.length > 0 || mailbox.reserved > 0)) return false;
    }
    return true;
  }

  private async purgeExpiredState(): Promise<void> {
    const { store } = this.options;
    try {
      const removed = await store.commits.submit(() => store.state.purgeExpired(this.clock()));
      if (removed > 0) this.logger.debug({ removed }, "purged expired state");
    } catch (error) {
      this.logger.warn({ err: error }, "purging expired state failed; will try again");
    }
  }

  private releaseSlot(): void {
    this.limiter.release();
    if (this.stopping && this.limiter.active === 0) {
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }

  private notifyIfSettled(): void {
    if (this.settledWaiters.length === 0 || !this.isSettled()) return;
    for (const resolve of this.settledWaiters.splice(0)) resolve();
  }
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
