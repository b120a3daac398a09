import type { Address } from "../api/address.js";
import type { Context, Storage } from "../api/context.js";
import type { EgressMessage, OutgoingMessage } from "../api/outgoing.js";

export interface DelayedEffect {
  readonly delayMs: number;
  readonly message?: OutgoingMessage;
  readonly cancellationToken?: string;
  readonly cancel: boolean;
}

/** The Context of one batch: effects accumulate in call order across its invocations. */
export class BatchContext implements Context {
  caller: Address | undefined;
  readonly messages: OutgoingMessage[] = [];
  readonly delayed: DelayedEffect[] = [];
  readonly egress: EgressMessage[] = [];

  constructor(
    readonly self: Address,
    readonly storage: Storage,
  ) {}

  send(message: OutgoingMessage): void {
    this.messages.push(message);
  }

  sendAfter(delayMs: number, message: OutgoingMessage, cancellationToken?: string): void {
    if (!Number.isFinite(delayMs) || delayMs < 0)
      throw new RangeError(`a delay must be >= 0 ms, not ${delayMs}`);
    if (cancellationToken !== undefined && cancellationToken.length === 0)
      throw new RangeError("a cancellation token cannot be empty");
    this.delayed.push({
      delayMs: Math.round(delayMs),
      message,
      cancel: false,
      ...(cancellationToken ? { cancellationToken } : {}),
    });
  }

  cancelDelayedMessage(cancellationToken: string): void {
    if (!cancellationToken) throw new RangeError("a cancellation token cannot be empty");
    this.delayed.push({ delayMs: 0, cancellationToken, cancel: true });
  }

  sendEgress(message: EgressMessage): void {
    this.egress.push(message);
  }
}
