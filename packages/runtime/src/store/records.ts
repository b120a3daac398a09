/** Plain records the store reads and writes; independent of the protobuf classes. */

/** A function instance: `fn` is the typename `namespace/name`, `id` the instance key. */
export interface AddressRef {
  readonly fn: string;
  readonly id: string;
}

/** A typed value as the protocol carries it (TypedValue). */
export interface StoredValue {
  readonly typename: string;
  readonly hasValue: boolean;
  readonly value: Uint8Array;
}

export interface NewMessage {
  readonly target: AddressRef;
  /** Absent for messages from ingress. */
  readonly caller?: AddressRef;
  readonly argument: StoredValue;
}

export interface StoredMessage extends NewMessage {
  readonly seq: number;
  readonly acceptedAt: number;
}

export enum ExpireMode {
  NONE = 0,
  AFTER_WRITE = 1,
  AFTER_INVOKE = 2,
}

export interface StateSpec {
  readonly name: string;
  readonly typename: string;
  readonly expireMode: ExpireMode;
  readonly expireAfterMs: number;
}

export interface StateValue {
  readonly name: string;
  readonly value: Uint8Array;
  readonly expiresAt: number | null;
}

export interface NewTimer {
  readonly sender: AddressRef;
  readonly token?: string;
  readonly dueAt: number;
  readonly message: NewMessage;
}

export interface StoredTimer extends NewTimer {
  readonly seq: number;
}

export interface NewEgressRecord {
  /** Egress identifier `namespace/type`. */
  readonly egress: string;
  /** Routing key inside the egress (the playground egress's topic); absent otherwise. */
  readonly topic?: string;
  readonly typename: string;
  readonly value: Uint8Array;
}

export interface StoredEgressRecord extends NewEgressRecord {
  readonly seq: number;
  readonly createdAt: number;
  readonly attempts: number;
}

export interface Suspension {
  readonly address: AddressRef;
  readonly failures: number;
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly suspendedAt: number;
  readonly retryAt: number;
}

export type DelayedAction =
  | { readonly kind: "schedule"; readonly timer: NewTimer }
  | { readonly kind: "cancel"; readonly token: string };

export type StateMutation =
  | { readonly kind: "modify"; readonly spec: StateSpec; readonly value: Uint8Array }
  | { readonly kind: "delete"; readonly spec: StateSpec };

/** A validated InvocationResponse, ready to be committed in StateFun's order. */
export interface ResultPlan {
  readonly outgoing: readonly NewMessage[];
  readonly delayed: readonly DelayedAction[];
  readonly egress: readonly NewEgressRecord[];
  readonly mutations: readonly StateMutation[];
}

/** A message taken out of dispatch by an operator, with the error that stopped its address. */
export interface DeadLetter {
  /** The dead letter's own id. */
  readonly seq: number;
  readonly message: StoredMessage;
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly deadLetteredAt: number;
}

/** Where a stored message goes, without its payload. */
export interface AddressRow {
  readonly seq: number;
  readonly fn: string;
  readonly id: string;
}

/**
 * A page of the stored backlog with some function types left out (their endpoint is down, so
 * their addresses are parked): `rows` in seq order, and `scannedTo`, the seq up to which every
 * message was either returned or left out, so a reader may move past messages it never saw.
 */
export interface BacklogPage {
  readonly rows: AddressRow[];
  readonly scannedTo: number;
}
