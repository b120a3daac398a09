/**
 * An in-memory StateFun runtime for tests: it drives a `StatefulFunctions` registry through
 * the same request-reply protocol the real runtime speaks (missing-state round trips, state
 * typenames, TTLs, delayed messages, cancellation, egress), on a fake clock, with no network.
 */
import { create } from "@bufbuild/protobuf";
import { type Address, address } from "../api/address.js";
import { Message, type TypedValue, typedValue } from "../api/message.js";
import type { OutgoingMessage } from "../api/outgoing.js";
import type { ValueSpec } from "../api/value-spec.js";
import { SdkError, SdkErrors } from "../errors.js";
import { RequestReplyHandler } from "../handler/request-reply-handler.js";
import {
  decodeFromFunction,
  encodeToFunction,
  type FromFunction_InvocationResponse,
  FromFunction_PersistedValueMutation_MutationType as MutationType,
  FromFunction_ExpirationSpec_ExpireMode as ProtoExpireMode,
  ToFunctionSchema,
} from "../protocol/index.js";
import type { StatefulFunctions } from "../registry.js";
import { STRING } from "../types/builtin-types.js";
import type { Type } from "../types/type.js";
import { FakeClock } from "./fake-clock.js";
import type { EgressRecord, InvocationRecord, SentMessage } from "./records.js";
import { type ExpireMode, StateBook } from "./state-book.js";

export interface TestRuntimeOptions {
  /** The clock's start, in ms; default 0. */
  readonly startMs?: number;
  /** Stops a message loop: `send` and `advance` fail after this many invocations; default 10000. */
  readonly maxInvocations?: number;
}

interface Envelope {
  readonly target: Address;
  readonly caller: Address | undefined;
  readonly argument: TypedValue;
}

interface PendingDelayed {
  readonly fireAt: number;
  readonly seq: number;
  readonly sender: Address;
  readonly token: string | undefined;
  readonly envelope: Envelope;
}

const EXPIRE_MODES: Record<number, ExpireMode> = {
  [ProtoExpireMode.NONE]: "none",
  [ProtoExpireMode.AFTER_INVOKE]: "after-invoke",
  [ProtoExpireMode.AFTER_WRITE]: "after-write",
};

export class TestRuntime {
  readonly clock: FakeClock;
  /** Every invocation run so far, in order. */
  readonly history: InvocationRecord[] = [];
  /** Messages for function types this registry does not serve, in send order. */
  readonly undelivered: SentMessage[] = [];
  private readonly handler: RequestReplyHandler;
  private readonly state = new StateBook();
  private readonly egressRecords: EgressRecord[] = [];
  private pending: PendingDelayed[] = [];
  private seq = 0;
  private readonly maxInvocations: number;

  constructor(
    private readonly functions: StatefulFunctions,
    options: TestRuntimeOptions = {},
  ) {
    this.handler = new RequestReplyHandler(functions);
    this.clock = new FakeClock(options.startMs ?? 0);
    this.maxInvocations = options.maxInvocations ?? 10_000;
  }

  /** Seeds a state value before a test sends anything; registers the spec for the type. */
  setState<T>(target: Address, spec: ValueSpec<T>, value: T): this {
    this.state.register(target.typename, [registeredFrom(spec)]);
    this.state.write(target, spec.name, spec.type.typename, spec.type.serialize(value), this.clock.now());
    return this;
  }

  /** The live value of a state, honouring TTL on the fake clock. */
  getState<T>(target: Address, spec: ValueSpec<T>): T | undefined {
    const stored = this.state.read(target, spec.name, this.clock.now());
    if (!stored) return undefined;
    if (stored.typename !== spec.type.typename) {
      throw new SdkError(
        SdkErrors.STATE_TYPE_MISMATCH,
        `state "${spec.name}" holds ${stored.typename}, not ${spec.type.typename}`,
      );
    }
    return spec.type.deserialize(stored.bytes);
  }

  /**
   * Runs ONE invocation and applies its state changes, delayed messages and egress; the
   * messages it sends are reported in the record but not delivered.
   */
  async invoke<T>(target: Address, value: T, options: { type?: Type<T>; caller?: Address } = {}) {
    const { record } = await this.run({
      target,
      caller: options.caller,
      argument: toTypedValue(value, options.type),
    });
    return record;
  }

  /**
   * Delivers a message (built with `messageBuilder`) and every message that follows from it,
   * until nothing is left to deliver. Returns the invocations this caused, in order.
   */
  async send(message: OutgoingMessage, caller?: Address): Promise<InvocationRecord[]> {
    const first = this.history.length;
    await this.drain([{ target: message.target, caller, argument: message.argument }]);
    return this.history.slice(first);
  }

  /**
   * Moves the clock forward by `ms`, firing every delayed message that falls due (in due
   * order, the clock set to each one's time) and delivering what follows from them.
   */
  async advance(ms: number): Promise<InvocationRecord[]> {
    if (!(ms >= 0)) throw new RangeError(`advance by a non-negative number of ms, not ${ms}`);
    const first = this.history.length;
    const until = this.clock.now() + ms;
    for (;;) {
      const next = this.nextDue(until);
      if (!next) break;
      this.pending = this.pending.filter((entry) => entry !== next);
      this.clock.set(next.fireAt);
      await this.drain([next.envelope]);
    }
    this.clock.set(until);
    return this.history.slice(first);
  }

  /** Delayed messages not yet fired, in due order. */
  pendingDelayed(): { fireAt: number; cancellationToken?: string; target: Address; message: Message }[] {
    return [...this.pending]
      .sort((a, b) => a.fireAt - b.fireAt || a.seq - b.seq)
      .map((entry) => ({
        fireAt: entry.fireAt,
        ...(entry.token !== undefined ? { cancellationToken: entry.token } : {}),
        target: entry.envelope.target,
        message: new Message(entry.envelope.argument),
      }));
  }

  /** Records sent to an egress (all of them when no typename is given). */
  egress(typename?: string): EgressRecord[] {
    return this.egressRecords.filter((record) => typename === undefined || record.egress === typename);
  }

  /** Payloads sent to a playground egress topic, parsed from their `{topic, payload}` JSON. */
  playgroundRecords(topic: string): unknown[] {
    return this.egress("io.statefun.playground/egress")
      .map(
        (record) =>
          JSON.parse(new TextDecoder().decode(record.message.rawValue)) as {
            topic: string;
            payload: unknown;
          },
      )
      .filter((record) => record.topic === topic)
      .map((record) => record.payload);
  }

  private nextDue(until: number): PendingDelayed | undefined {
    let best: PendingDelayed | undefined;
    for (const entry of this.pending) {
      if (entry.fireAt > until) continue;
      if (!best || entry.fireAt < best.fireAt || (entry.fireAt === best.fireAt && entry.seq < best.seq))
        best = entry;
    }
    return best;
  }

  private async drain(queue: Envelope[]): Promise<void> {
    let budget = this.maxInvocations;
    for (let envelope = queue.shift(); envelope; envelope = queue.shift()) {
      if (!this.functions.get(envelope.target.typename)) {
        this.undelivered.push({ target: envelope.target, message: new Message(envelope.argument) });
        continue;
      }
      if (budget-- <= 0) {
        throw new RangeError(
          `more than ${this.maxInvocations} invocations: do the functions send messages in a loop?`,
        );
      }
      const { outgoing } = await this.run(envelope);
      queue.push(...outgoing);
    }
  }

  private async run(envelope: Envelope): Promise<{ record: InvocationRecord; outgoing: Envelope[] }> {
    const { target } = envelope;
    if (!this.functions.get(target.typename)) {
      throw new SdkError(SdkErrors.UNKNOWN_FUNCTION, `no function is registered for ${target.typename}`);
    }
    const now = this.clock.now();
    // Two rounds at most: the first may only teach us which state the function declares.
    for (let round = 0; round < 2; round++) {
      const reply = decodeFromFunction(await this.handler.handle(this.request(envelope, now)));
      if (reply.response.case === "incompleteInvocationContext") {
        this.state.register(
          target.typename,
          reply.response.value.missingValues.map((missing) => ({
            name: missing.stateName,
            typename: missing.typeTypename,
            mode: EXPIRE_MODES[missing.expirationSpec?.mode ?? ProtoExpireMode.NONE] ?? "none",
            ttlMs: Number(missing.expirationSpec?.expireAfterMillis ?? 0n),
          })),
        );
        continue;
      }
      const result = reply.response.case === "invocationResult" ? reply.response.value : undefined;
      const record = this.apply(envelope, result, now);
      this.history.push(record);
      const outgoing = (result?.outgoingMessages ?? []).map((sent) => ({
        target: fromProtoAddress(sent.target),
        caller: target,
        argument: sent.argument ?? emptyValue(),
      }));
      return { record, outgoing };
    }
    throw new SdkError(SdkErrors.BAD_REQUEST, `${target.typename} asked for missing state twice`);
  }

  private request(envelope: Envelope, now: number): Uint8Array {
    const { target } = envelope;
    this.state.touch(target, now);
    return encodeToFunction(
      create(ToFunctionSchema, {
        request: {
          case: "invocation",
          value: {
            target: toProtoAddress(target),
            state: this.state.registered(target.typename).map((spec) => {
              const live = this.state.read(target, spec.name, now);
              return {
                stateName: spec.name,
                ...(live
                  ? { stateValue: { typename: live.typename, hasValue: true, value: live.bytes } }
                  : {}),
              };
            }),
            invocations: [
              {
                ...(envelope.caller ? { caller: toProtoAddress(envelope.caller) } : {}),
                argument: envelope.argument,
              },
            ],
          },
        },
      }),
    );
  }

  /** Applies a result in StateFun's order: messages, delayed and cancellations, egress, state. */
  private apply(envelope: Envelope, result: FromFunction_InvocationResponse | undefined, now: number) {
    const { target } = envelope;
    const messages = (result?.outgoingMessages ?? []).map((outgoing) => ({
      target: fromProtoAddress(outgoing.target),
      message: new Message(outgoing.argument ?? emptyValue()),
    }));
    const delayed: InvocationRecord["delayed"][number][] = [];
    const cancellations: string[] = [];
    for (const entry of result?.delayedInvocations ?? []) {
      const token = entry.cancellationToken === "" ? undefined : entry.cancellationToken;
      if (entry.isCancellationRequest) {
        if (token !== undefined) cancellations.push(token);
        this.pending = this.pending.filter(
          (pending) => !(sameAddress(pending.sender, target) && pending.token === token),
        );
        continue;
      }
      const delayMs = Number(entry.delayInMs);
      const to = fromProtoAddress(entry.target);
      const argument = entry.argument ?? emptyValue();
      delayed.push({
        delayMs,
        target: to,
        message: new Message(argument),
        ...(token !== undefined ? { cancellationToken: token } : {}),
      });
      // Re-using a pending token replaces the pending message, as the runtime does.
      if (token !== undefined) {
        this.pending = this.pending.filter(
          (pending) => !(sameAddress(pending.sender, target) && pending.token === token),
        );
      }
      this.pending.push({
        fireAt: now + delayMs,
        seq: this.seq++,
        sender: target,
        token,
        envelope: { target: to, caller: target, argument },
      });
    }
    const egress = (result?.outgoingEgresses ?? []).map((entry) => ({
      egress: `${entry.egressNamespace}/${entry.egressType}`,
      message: new Message(entry.argument ?? emptyValue()),
    }));
    this.egressRecords.push(...egress);
    const stateChanges = (result?.stateMutations ?? []).map((mutation) => {
      const spec = this.state.spec(target.typename, mutation.stateName);
      if (!spec) {
        throw new SdkError(
          SdkErrors.BAD_REQUEST,
          `${target.typename} wrote state "${mutation.stateName}" it never declared`,
        );
      }
      if (mutation.mutationType === MutationType.DELETE) {
        this.state.delete(target, mutation.stateName);
        return { name: mutation.stateName, deleted: true };
      }
      const value = mutation.stateValue ?? emptyValue();
      if (value.typename !== spec.typename) {
        throw new SdkError(
          SdkErrors.STATE_TYPE_MISMATCH,
          `${target.typename} wrote "${mutation.stateName}" as ${value.typename}; it is registered as ${spec.typename}`,
        );
      }
      this.state.write(target, mutation.stateName, value.typename, value.value, now);
      return { name: mutation.stateName, deleted: false, value };
    });
    return {
      target,
      caller: envelope.caller,
      message: new Message(envelope.argument),
      at: now,
      stateChanges,
      messages,
      delayed,
      cancellations,
      egress,
    } satisfies InvocationRecord;
  }
}

function registeredFrom(spec: ValueSpec<unknown>) {
  if (spec.expireAfterCall !== undefined)
    return {
      name: spec.name,
      typename: spec.type.typename,
      mode: "after-invoke" as const,
      ttlMs: spec.expireAfterCall,
    };
  if (spec.expireAfterWrite !== undefined)
    return {
      name: spec.name,
      typename: spec.type.typename,
      mode: "after-write" as const,
      ttlMs: spec.expireAfterWrite,
    };
  return { name: spec.name, typename: spec.type.typename, mode: "none" as const, ttlMs: 0 };
}

function toTypedValue<T>(value: T, type: Type<T> | undefined): TypedValue {
  if (type) return typedValue(type, value);
  if (typeof value === "string") return typedValue(STRING, value);
  throw new TypeError("give a type for values that are not strings");
}

function emptyValue(): TypedValue {
  return { typename: "", hasValue: false, value: new Uint8Array(0) };
}

function toProtoAddress(target: Address) {
  return { namespace: target.namespace, type: target.name, id: target.id };
}

function fromProtoAddress(proto: { namespace: string; type: string; id: string } | undefined): Address {
  if (!proto) throw new SdkError(SdkErrors.BAD_REQUEST, "a message without a target");
  return address(`${proto.namespace}/${proto.type}`, proto.id);
}

function sameAddress(a: Address, b: Address): boolean {
  return a.typename === b.typename && a.id === b.id;
}
