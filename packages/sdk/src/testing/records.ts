/**
 * What a TestRuntime reports about each invocation it ran, decoded from the function's
 * protocol reply into the SDK's own types so tests assert with `message.as(TYPE)`.
 */
import type { Address } from "../api/address.js";
import type { Message, TypedValue } from "../api/message.js";

export interface StateChange {
  readonly name: string;
  /** True for DELETE; false for MODIFY, whose value is in `value`. */
  readonly deleted: boolean;
  readonly value?: TypedValue;
}

export interface SentMessage {
  readonly target: Address;
  readonly message: Message;
}

export interface DelayedMessage extends SentMessage {
  readonly delayMs: number;
  readonly cancellationToken?: string;
}

export interface EgressRecord {
  /** The egress typename, e.g. `io.statefun.playground/egress`. */
  readonly egress: string;
  readonly message: Message;
}

/** One invocation of one function and everything it asked for. */
export interface InvocationRecord {
  readonly target: Address;
  /** The sending function; undefined for messages a test sent. */
  readonly caller: Address | undefined;
  readonly message: Message;
  /** When it ran, on the runtime's clock. */
  readonly at: number;
  readonly stateChanges: readonly StateChange[];
  readonly messages: readonly SentMessage[];
  readonly delayed: readonly DelayedMessage[];
  readonly cancellations: readonly string[];
  readonly egress: readonly EgressRecord[];
}
