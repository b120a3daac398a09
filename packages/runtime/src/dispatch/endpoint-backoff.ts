import { endpointLabel } from "../config/endpoint-label.js";
import type { FunctionEndpoint, FunctionRouter } from "../config/model.js";
import type { MessageStore } from "../store/contract.js";
import type { AddressRef } from "../store/records.js";
import { type EndpointBreakerOptions, EndpointHealth, type FailureCause } from "./endpoint-health.js";
import type { Logger } from "./logger.js";

/** What the dispatcher does for the endpoint back-off. */
export interface EndpointBackoffHooks {
  /** Abandons the calls in flight to `health`'s endpoint, except its probe. */
  abandonCalls(health: EndpointHealth): void;
  /** Sends `address`'s next batch as its endpoint's probe; false when it cannot (it is suspended). */
  probe(address: AddressRef): boolean;
  /** An endpoint is back: its parked addresses wait in the store and must be found again. */
  resumed(): void;
}

export interface EndpointDown {
  readonly endpoint: string;
  readonly since: number;
  readonly nextProbeAt: number;
  readonly failedProbes: number;
  readonly messagesWhileDown: number;
  readonly lastError?: FailureCause;
}

/**
 * Backs failing endpoints off as a whole: keeps each endpoint's health, logs when one goes
 * down, is still down (once per interval) and comes back, and runs the probes, each on an
 * address whose messages wait in the store.
 */
export class EndpointBackoff {
  private readonly health = new Map<FunctionEndpoint, EndpointHealth>();
  private probeTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly router: FunctionRouter,
    private readonly messages: MessageStore,
    private readonly options: EndpointBreakerOptions,
    private readonly logger: Logger,
    private readonly clock: () => number,
    private readonly hooks: EndpointBackoffHooks,
  ) {}

  /** The health of the endpoint serving `fn` (undefined when none does). */
  of(fn: string): EndpointHealth | undefined {
    const endpoint = this.router.tryResolve(fn)?.endpoint;
    if (!endpoint) return undefined;
    let health = this.health.get(endpoint);
    if (!health) {
      health = new EndpointHealth(endpointLabel(endpoint), this.options);
      this.health.set(endpoint, health);
    }
    return health;
  }

  /** A call or a retried attempt failed for the address `key`; past the threshold the endpoint goes down. */
  failed(health: EndpointHealth | undefined, key: string, cause: FailureCause): void {
    if (!health || this.stopped) return;
    if (!health.failed(key, cause, this.clock())) return;
    this.logger.error(
      { endpoint: health.label, code: cause.code, probeInMs: Math.max(0, health.probeAt - this.clock()) },
      `endpoint failing, its addresses are parked until a probe succeeds: ${cause.message}`,
    );
    // Calls still retrying against it are abandoned: their batches stay stored.
    this.hooks.abandonCalls(health);
    this.armProbe();
  }

  /** A call succeeded: an endpoint that was down is back. */
  succeeded(health: EndpointHealth | undefined): void {
    if (health?.succeeded()) this.recovered(health);
  }

  probeFailed(health: EndpointHealth, cause: FailureCause): void {
    const now = this.clock();
    health.probeFailed(now);
    health.lastError = cause;
    if (health.reportDue(now)) {
      this.logger.warn(
        {
          endpoint: health.label,
          downForMs: now - health.downSince,
          failedProbes: health.failedProbes,
          messagesWhileDown: health.messagesWhileDown,
          parkedAddresses: health.parkedAddresses,
          code: cause.code,
        },
        `endpoint still failing: ${cause.message}`,
      );
    }
    this.armProbe();
  }

  /** An address of a down endpoint left memory: make sure a probe is coming. */
  parked(health: EndpointHealth, fn: string): void {
    health.parkedTypes.add(fn);
    health.parkedAddresses++;
    if (!this.probeTimer) this.armProbe();
  }

  /** The function types whose addresses are parked (their endpoint is down): reads of the backlog may leave them out. */
  parkedTypes(): string[] {
    const types: string[] = [];
    for (const health of this.health.values()) {
      if (health.down) types.push(...health.parkedTypes);
    }
    return types;
  }

  down(): EndpointDown[] {
    const down: EndpointDown[] = [];
    for (const health of this.health.values()) {
      if (!health.down) continue;
      down.push({
        endpoint: health.label,
        since: health.downSince,
        nextProbeAt: health.probeAt,
        failedProbes: health.failedProbes,
        messagesWhileDown: health.messagesWhileDown,
        ...(health.lastError ? { lastError: health.lastError } : {}),
      });
    }
    return down;
  }

  stop(): void {
    this.stopped = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  private recovered(health: EndpointHealth): void {
    this.logger.info(
      {
        endpoint: health.label,
        downForMs: this.clock() - health.downSince,
        messagesWhileDown: health.messagesWhileDown,
      },
      "endpoint recovered, draining its backlog",
    );
    health.parkedTypes.clear();
    health.probeCursor.clear();
    this.hooks.resumed();
  }

  /** Keeps one timer armed for the earliest probe of any down endpoint. */
  private armProbe(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    if (this.stopped) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const health of this.health.values()) {
      if (health.down && !health.probing) earliest = Math.min(earliest, health.probeAt);
    }
    if (earliest === Number.POSITIVE_INFINITY) return;
    this.probeTimer = setTimeout(() => void this.startProbes(), Math.max(0, earliest - this.clock()));
    this.probeTimer.unref?.();
  }

  /** For each down endpoint due a probe, takes one of its waiting addresses from the store. */
  private async startProbes(): Promise<void> {
    this.probeTimer = undefined;
    const now = this.clock();
    for (const health of this.health.values()) {
      if (!health.mayProbe(now)) continue;
      // Taken before the store is asked, so the timer cannot start a second probe meanwhile.
      health.probing = true;
      let probing = false;
      try {
        probing = await this.probeOne(health);
      } catch (error) {
        this.logger.warn({ err: error, endpoint: health.label }, "finding an address to probe failed");
        health.probing = false;
        health.probeFailed(this.clock());
        continue;
      }
      if (this.stopped) return;
      if (!probing) {
        // Nothing waits for it: put it back in service; the next failures will show.
        health.succeeded();
        this.recovered(health);
      }
    }
    this.armProbe();
  }

  /** Probes with an address of one of the endpoint's parked types, rotating through their ids. */
  private async probeOne(health: EndpointHealth): Promise<boolean> {
    for (const fn of health.parkedTypes) {
      const first = health.probeCursor.get(fn) ?? "";
      let after = first;
      // Bounded: a suspended address is passed over, at most a few before giving this type up.
      for (let tries = 0; tries < 8; tries++) {
        const id =
          (await this.messages.nextIdWithMessages(fn, after)) ??
          (after ? await this.messages.nextIdWithMessages(fn, "") : undefined);
        if (id === undefined || (tries > 0 && id === first)) break;
        health.probeCursor.set(fn, id);
        if (this.hooks.probe({ fn, id })) return true;
        after = id;
      }
    }
    health.probing = false;
    return false;
  }
}
