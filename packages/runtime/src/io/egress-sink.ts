import type { NewEgressRecord, StoredValue } from "../store/records.js";

/**
 * One configured egress. Functions address it as `namespace/type`. Records pass through the
 * durable outbox: `accept` validates a value when a result is planned (so a bad record
 * rejects the whole result), and `notify` wakes the deliverer after the records are durable.
 */
export interface EgressSink {
  /** `namespace/type`, as functions name it. */
  readonly id: string;
  /** The component kind that configured it. */
  readonly kind: string;
  /** Throws SB_EGRESS_INVALID_RECORD for a value this egress cannot take. */
  accept(value: StoredValue): NewEgressRecord;
  notify(): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface EgressDirectory {
  get(id: string): EgressSink | undefined;
}
