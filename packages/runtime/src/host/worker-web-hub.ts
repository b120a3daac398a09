import { Readable } from "node:stream";
import type { Logger } from "../dispatch/logger.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { DataStore } from "./data-store.js";
import type { HostObserver } from "./host-observer.js";
import type { InvocationProfile } from "./invocation.js";
import { ServedInvocation } from "./served-invocation.js";
import { failureAnswer, logFailedAfterStart } from "./web-failure.js";
import type { FromWorker, SerializedError } from "./worker/messages.js";
import type { WebFromWorker } from "./worker/web-messages.js";
import type { Slot } from "./worker-pool.js";

/** What the hub needs of its pool. */
export interface HubPool {
  readonly module: string;
  /** Workers started and answering. */
  readySlots(): Slot[];
  /** Terminates a worker that stopped answering; the pool replaces it. */
  replace(slot: Slot): void;
  /** A function's error as the host reports it (secrets scrubbed). */
  functionError(error: SerializedError): SwitchboardError;
}

/** One web listener serving through this pool's workers (host/worker-web-path.ts). */
export interface HubMember {
  readonly l: number;
  slotReady(slot: Slot): void;
  slotLost(slot: Slot): void;
  onMessage(slot: Slot, message: Extract<WebFromWorker, { l: number }>): void;
}

/** What the listeners lend the hub: where Data lives, the functions' profiles, logs, metrics. */
export interface HubContext {
  readonly data: DataStore;
  readonly logger: Logger;
  readonly observer?: HostObserver | undefined;
}

const BEAT_MS = 1000;
/** How long past the longest time limit a worker may go without answering before it is replaced. */
const STALL_GRACE_MS = 1000;

/**
 * A pool's side of the worker path: the web requests its workers serve themselves. Keeps the
 * main thread's record of each one that needs the host (host calls, `data` bodies, failures
 * to answer and log), relays the figures workers send to metrics, and, since a worker stuck
 * in a loop cannot time its own requests out, replaces a worker that stops answering beats
 * for longer than its functions' longest time limit.
 */
export class WorkerWebHub {
  private readonly members = new Map<number, HubMember>();
  private readonly invocations = new Map<number, { invocation: ServedInvocation; slot: Slot }>();
  private readonly bodies = new Map<number, Readable>();
  private readonly profiles = new Map<string, InvocationProfile>();
  private context: HubContext | undefined;
  private beat: NodeJS.Timeout | undefined;
  private beatSeq = 0;
  private readonly lastAck = new Map<Slot, number>();
  /** Workers finishing their requests after being told to stop listening. */
  draining = 0;

  constructor(private readonly pool: HubPool) {}

  /** Requests in flight the pool must wait for before closing (a reload retiring it). */
  get inFlight(): number {
    return this.draining + this.invocations.size;
  }

  readySlots(): Slot[] {
    return this.pool.readySlots();
  }

  attach(member: HubMember, context: HubContext, profiles: ReadonlyMap<string, InvocationProfile>): void {
    this.members.set(member.l, member);
    this.context = context;
    for (const [name, profile] of profiles) this.profiles.set(name, profile);
    this.beat ??= setInterval(() => this.beatAll(), BEAT_MS).unref();
  }

  detach(member: HubMember): void {
    if (this.members.get(member.l) !== member) return;
    this.members.delete(member.l);
    if (this.members.size === 0 && this.beat) {
      clearInterval(this.beat);
      this.beat = undefined;
    }
  }

  setProfiles(profiles: ReadonlyMap<string, InvocationProfile>): void {
    for (const [name, profile] of profiles) this.profiles.set(name, profile);
  }

  slotReady(slot: Slot): void {
    this.lastAck.set(slot, performance.now());
    for (const member of this.members.values()) member.slotReady(slot);
  }

  slotLost(slot: Slot, why: Error): void {
    this.lastAck.delete(slot);
    for (const [id, held] of this.invocations) if (held.slot === slot) this.end(id, why);
    for (const member of this.members.values()) member.slotLost(slot);
  }

  /** The record a host call from a served request runs under, made on its first call. */
  invocationFor(slot: Slot, call: Extract<FromWorker, { t: "call" }>): ServedInvocation | undefined {
    const held = this.invocations.get(call.id);
    if (held) return held.slot === slot ? held.invocation : undefined;
    if (!call.served || call.id >= 0) return undefined;
    return this.open(slot, call.id, call.served.fn, call.served.left);
  }

  onMessage(slot: Slot, message: WebFromWorker): void {
    switch (message.t) {
      case "web-listening":
      case "web-listen-failed":
      case "web-closed":
        this.members.get(message.l)?.onMessage(slot, message);
        return;
      case "web-seen": {
        const observer = this.context?.observer;
        if (!observer) return;
        const { seen } = message;
        for (let at = 0; at + 2 < seen.length; at += 3)
          observer.observeWebRequest(seen[at] as string, seen[at + 1] as number, seen[at + 2] as number);
        return;
      }
      case "body-open":
        this.openBody(slot, message.id, message.fn, message.left);
        return;
      case "body-chunk": {
        const stream = this.bodies.get(message.id);
        if (!stream) return;
        if (message.bytes)
          stream.push(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength));
        else if (message.error !== undefined) stream.destroy(new Error(message.error));
        else stream.push(null);
        return;
      }
      case "web-ended":
        this.end(message.id, message.error ? this.errorOf("host", message.error) : undefined);
        return;
      case "web-fail": {
        const logger = this.context?.logger;
        const error = this.errorOf(message.by, message.error);
        const value = logger
          ? failureAnswer(error, message.id, message.path, logger)
          : { status: 500, body: { error: { code: "SB_INTERNAL", message: "internal error" } } };
        slot.outbox.send({ t: "reply", callId: message.callId, ok: true, value });
        return;
      }
      case "web-cut":
        if (this.context)
          logFailedAfterStart(this.context.logger, message.id, this.pool.functionError(message.error));
        return;
      case "beat-ack":
        this.lastAck.set(slot, performance.now());
        return;
    }
  }

  private open(slot: Slot, id: number, fn: string, left: number): ServedInvocation | undefined {
    const profile = this.profiles.get(fn);
    if (!profile) return undefined;
    const invocation = new ServedInvocation(id, this.pool.module, profile, slot.index, left);
    this.invocations.set(id, { invocation, slot });
    return invocation;
  }

  /** The request's body as host Data (id = the request's id), read from the worker on demand. */
  private openBody(slot: Slot, id: number, fn: string, left: number): void {
    const data = this.context?.data;
    if (!data || !(this.invocations.get(id) ?? this.open(slot, id, fn, left))) return;
    const stream = new Readable({ read: () => slot.outbox.send({ t: "body-pull", id }) });
    this.bodies.set(id, stream);
    data.adopt(id, id, {
      kind: "stream",
      stream,
      consumed: false,
      release: () => slot.outbox.send({ t: "body-release", id }),
    });
  }

  private end(id: number, failure: Error | undefined): void {
    const held = this.invocations.get(id);
    this.bodies.delete(id);
    if (!held) return;
    this.invocations.delete(id);
    held.invocation.end(failure);
    held.invocation.profile.calls.ended(held.invocation);
    this.context?.data.releaseAll(id);
  }

  private errorOf(by: "host" | "function", error: SerializedError): Error {
    if (by === "function") return this.pool.functionError(error);
    if (error.code && error.status)
      return new SwitchboardError({ code: error.code, status: error.status }, error.message);
    return new Error(error.message);
  }

  private beatAll(): void {
    const now = performance.now();
    let longest = 0;
    for (const profile of this.profiles.values()) longest = Math.max(longest, profile.timeoutMs);
    const n = ++this.beatSeq;
    for (const slot of this.pool.readySlots()) {
      const last = this.lastAck.get(slot) ?? now;
      if (!this.lastAck.has(slot)) this.lastAck.set(slot, now);
      if (now - last > longest + STALL_GRACE_MS + BEAT_MS) {
        this.lastAck.delete(slot);
        this.pool.replace(slot);
        continue;
      }
      slot.outbox.send({ t: "beat", n });
    }
  }
}
