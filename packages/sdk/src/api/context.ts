import type { Address } from "./address.js";
import type { EgressMessage, OutgoingMessage } from "./outgoing.js";
import type { ValueSpec } from "./value-spec.js";

/** Typed access to the invoked address's state; writes are returned to the runtime. */
export interface Storage {
  get<T>(spec: ValueSpec<T>): T | undefined;
  set<T>(spec: ValueSpec<T>, value: T): void;
  delete(spec: ValueSpec<unknown>): void;
}

/** What a function can see and do during one invocation. */
export interface Context {
  readonly self: Address;
  /** The sending function; undefined for messages from ingress. */
  readonly caller: Address | undefined;
  readonly storage: Storage;
  send(message: OutgoingMessage): void;
  /** Sends after `delayMs`; a token lets the sender cancel it while it is pending. */
  sendAfter(delayMs: number, message: OutgoingMessage, cancellationToken?: string): void;
  cancelDelayedMessage(cancellationToken: string): void;
  sendEgress(message: EgressMessage): void;
}
