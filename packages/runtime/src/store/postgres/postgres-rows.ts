import type {
  AddressRef,
  DeadLetter,
  StoredEgressRecord,
  StoredMessage,
  StoredTimer,
  Suspension,
} from "../records.js";

/**
 * Row shapes of the PostgreSQL tables and their conversion to the store's records. pg returns
 * bigint columns as strings (seqs and epoch-ms times stay below 2^53, so Number is exact) and
 * bytea as Buffer, handed out as a plain Uint8Array like the SQLite store's values.
 */

export interface MessageRow {
  seq: string;
  fn: string;
  id: string;
  caller_fn: string | null;
  caller_id: string | null;
  typename: string;
  has_value: boolean;
  value: Buffer | null;
  accepted_at: string;
}

export const MESSAGE_COLUMNS = "seq, fn, id, caller_fn, caller_id, typename, has_value, value, accepted_at";

export function toMessage(row: MessageRow): StoredMessage {
  return {
    seq: Number(row.seq),
    target: { fn: row.fn, id: row.id },
    ...(row.caller_fn !== null && row.caller_id !== null
      ? { caller: { fn: row.caller_fn, id: row.caller_id } }
      : {}),
    argument: { typename: row.typename, hasValue: row.has_value, value: toBytes(row.value) },
    acceptedAt: Number(row.accepted_at),
  };
}

export interface DeadLetterRow extends MessageRow {
  original_seq: string;
  error_code: string;
  error_message: string;
  dead_lettered_at: string;
}

export function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    seq: Number(row.seq),
    // The message as it was in the backlog: its own seq, not the dead letter's.
    message: toMessage({ ...row, seq: row.original_seq }),
    errorCode: row.error_code,
    errorMessage: row.error_message,
    deadLetteredAt: Number(row.dead_lettered_at),
  };
}

export interface TimerRow {
  seq: string;
  sender_fn: string;
  sender_id: string;
  token: string | null;
  due_at: string;
  target_fn: string;
  target_id: string;
  typename: string;
  has_value: boolean;
  value: Buffer | null;
}

export function toTimer(row: TimerRow): StoredTimer {
  const sender: AddressRef = { fn: row.sender_fn, id: row.sender_id };
  return {
    seq: Number(row.seq),
    sender,
    ...(row.token !== null ? { token: row.token } : {}),
    dueAt: Number(row.due_at),
    message: {
      target: { fn: row.target_fn, id: row.target_id },
      caller: sender,
      argument: { typename: row.typename, hasValue: row.has_value, value: toBytes(row.value) },
    },
  };
}

export interface EgressRow {
  seq: string;
  egress: string;
  topic: string | null;
  typename: string;
  value: Buffer | null;
  created_at: string;
  attempts: number;
}

export const EGRESS_COLUMNS = "seq, egress, topic, typename, value, created_at, attempts";

export function toEgressRecord(row: EgressRow): StoredEgressRecord {
  return {
    seq: Number(row.seq),
    egress: row.egress,
    ...(row.topic !== null ? { topic: row.topic } : {}),
    typename: row.typename,
    value: toBytes(row.value),
    createdAt: Number(row.created_at),
    attempts: row.attempts,
  };
}

export interface SuspensionRow {
  fn: string;
  id: string;
  failures: number;
  error_code: string;
  error_message: string;
  suspended_at: string;
  retry_at: string;
}

export function toSuspension(row: SuspensionRow): Suspension {
  return {
    address: { fn: row.fn, id: row.id },
    failures: row.failures,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    suspendedAt: Number(row.suspended_at),
    retryAt: Number(row.retry_at),
  };
}

/** A bytea column as a plain Uint8Array (NULL as empty). */
export function toBytes(value: Buffer | null): Uint8Array {
  if (value === null) return new Uint8Array(0);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/** Bytes as pg sends them as a bytea parameter or array element, without copying. */
export function toBuffer(value: Uint8Array): Buffer {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
