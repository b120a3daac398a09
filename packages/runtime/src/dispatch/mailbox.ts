import type { AddressRef, StoredMessage } from "../store/records.js";

/**
 * One address's queue. At most one batch is in flight; everything that arrives meanwhile
 * waits in `backlog`, in arrival order, and goes out as one batch when the reply is applied.
 */
export class Mailbox {
  backlog: StoredMessage[] = [];
  inFlight: readonly StoredMessage[] | undefined;
  /** Ingress messages admitted but not yet committed; they count against back-pressure. */
  reserved = 0;
  /** Waiting for a global in-flight slot. */
  waitingForSlot = false;
  /** Consecutive failed batches; 0 when healthy. */
  failures = 0;
  /** While suspended, no batch is sent before this time (epoch ms). */
  retryAt = 0;
  retryTimer: NodeJS.Timeout | undefined;
  lastError: { code: string; message: string } | undefined;

  constructor(readonly address: AddressRef) {}

  get idle(): boolean {
    return this.inFlight === undefined && this.backlog.length === 0 && !this.waitingForSlot;
  }

  get suspended(): boolean {
    return this.failures > 0;
  }
}
