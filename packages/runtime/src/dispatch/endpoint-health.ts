/**
 * Whether a function endpoint is serving. One endpoint that refuses connections, times out
 * or answers 5xx fails every address routed to it; retrying each address on its own keeps a
 * call in flight per address and floods the log. Instead, failures across DIFFERENT
 * addresses with no success in between mark the endpoint down: its addresses are parked
 * (their messages stay in the store), and one probe call at a time, after a growing pause,
 * finds out when it is back.
 */

export interface EndpointBreakerOptions {
  /** Failed calls or attempts, with no success between them, that mark an endpoint down. */
  readonly failureThreshold: number;
  /** ...and how many distinct addresses they must come from (one poison address is not an outage). */
  readonly distinctAddresses: number;
  /** The first pause before a probe; it doubles after each failed probe, up to `probeMaxMs`. */
  readonly probeInitialMs: number;
  readonly probeMaxMs: number;
  /** At most one "still down" log line per endpoint per this interval. */
  readonly reportIntervalMs: number;
}

export const DEFAULT_ENDPOINT_BREAKER: EndpointBreakerOptions = {
  failureThreshold: 8,
  distinctAddresses: 2,
  probeInitialMs: 1000,
  probeMaxMs: 30_000,
  reportIntervalMs: 30_000,
};

export interface FailureCause {
  readonly code: string;
  readonly message: string;
}

export class EndpointHealth {
  private consecutiveFailures = 0;
  private readonly failingAddresses = new Set<string>();
  private probePauseMs: number;
  down = false;
  downSince = 0;
  /** No probe starts before this time (epoch ms). */
  probeAt = 0;
  /** A probe call is in flight. */
  probing = false;
  lastError: FailureCause | undefined;
  /** Messages accepted for this endpoint's addresses while it was down. */
  messagesWhileDown = 0;
  /** Addresses taken out of dispatch while it was down. */
  parkedAddresses = 0;
  /** Failed probes since it went down. */
  failedProbes = 0;
  lastReportAt = 0;
  /** Function types whose addresses were parked: where probes look for work. */
  readonly parkedTypes = new Set<string>();
  /** Where the next probe looks for an address, per function type (ids in order, wrapping). */
  readonly probeCursor = new Map<string, string>();

  constructor(
    readonly label: string,
    private readonly options: EndpointBreakerOptions,
  ) {
    this.probePauseMs = options.probeInitialMs;
  }

  /** A call succeeded. Returns true when this brings the endpoint back. */
  succeeded(): boolean {
    this.consecutiveFailures = 0;
    this.failingAddresses.clear();
    if (!this.down) return false;
    this.down = false;
    this.probing = false;
    this.probePauseMs = this.options.probeInitialMs;
    return true;
  }

  /** A call or attempt failed. Returns true when this marks the endpoint down. */
  failed(addressKey: string, cause: FailureCause, now: number): boolean {
    this.lastError = cause;
    if (this.down) return false;
    this.consecutiveFailures++;
    if (this.failingAddresses.size < this.options.distinctAddresses) this.failingAddresses.add(addressKey);
    if (
      this.consecutiveFailures < this.options.failureThreshold ||
      this.failingAddresses.size < this.options.distinctAddresses
    ) {
      return false;
    }
    this.down = true;
    this.downSince = now;
    this.messagesWhileDown = 0;
    this.parkedAddresses = 0;
    this.failedProbes = 0;
    this.lastReportAt = now;
    this.probePauseMs = this.options.probeInitialMs;
    this.probeAt = now + this.probePauseMs;
    return true;
  }

  /** A probe failed: wait longer before the next one. */
  probeFailed(now: number): void {
    this.probing = false;
    this.failedProbes++;
    this.probePauseMs = Math.min(this.probePauseMs * 2, this.options.probeMaxMs);
    this.probeAt = now + Math.round(this.probePauseMs * (0.8 + Math.random() * 0.4));
  }

  /** Whether a probe may start now. */
  mayProbe(now: number): boolean {
    return this.down && !this.probing && now >= this.probeAt;
  }

  /** Whether a "still down" line is due; marks it written. */
  reportDue(now: number): boolean {
    if (now - this.lastReportAt < this.options.reportIntervalMs) return false;
    this.lastReportAt = now;
    return true;
  }
}
