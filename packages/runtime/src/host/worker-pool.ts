import type { Worker } from "node:worker_threads";
import type { Logger } from "../dispatch/logger.js";
import { HostErrors } from "../errors/host-errors.js";
import { type ErrorDefinition, SwitchboardError } from "../errors/switchboard-error.js";
import { IdTable } from "./id-table.js";
import type { Invocation, InvocationProfile } from "./invocation.js";
import { RunningInvocation, type Task } from "./running-invocation.js";
import { scrubError } from "./scrub-error.js";
import { loadErrorText } from "./worker/load-error-text.js";
import {
  type FromWorker,
  type SerializedError,
  serializeError,
  type ToWorker,
  unsendableError,
  type WebFunctionInfo,
} from "./worker/messages.js";
import { movableBuffer } from "./worker/movable-buffer.js";
import { type Batch, Outbox, unbatch } from "./worker/outbox.js";
import { packWebRun, unpackWebDone } from "./worker/packed-web.js";
import { spawnWorker } from "./worker/spawn-worker.js";
import type { WebFromWorker } from "./worker/web-messages.js";
import { WorkerWebHub } from "./worker-web-hub.js";

export interface PoolOptions {
  /** For logs and errors: the module file as configured. */
  readonly module: string;
  /** The override this pool runs, when it is not the module's own pool. */
  readonly override?: string;
  readonly moduleUrl: string;
  readonly workers: number;
  readonly memoryMb: number;
  readonly env: Readonly<Record<string, string>>;
  readonly logger: Logger;
  /** Scrubs secrets out of text bound for logs and errors. */
  readonly redact: (text: string) => string;
}

/** What the module serves, reported by its first worker. */
export interface ModuleManifest {
  readonly typenames: readonly string[];
  readonly web: readonly WebFunctionInfo[];
}

/** A pool's figures at one moment, for metrics. */
export interface PoolStats {
  /** Workers running at least one invocation. */
  readonly busy: number;
  /** Ready workers running nothing. */
  readonly idle: number;
  /** Invocations waiting for a ready worker. */
  readonly queued: number;
}

/** How long a worker may take to answer a ping after an invocation timed out before it is replaced. */
const PROBE_MS = 1000;
const RESPAWN_BACKOFF_MS = 1000;
/** Each worker ever started gets its own lane of ids for the web requests it serves itself. */
let lanes = 0;

/** Moves a body the host does not keep to the worker instead of copying it. */
function transferable(task: Task): ArrayBuffer[] | undefined {
  if (task.kind === "stateful") return movableBuffer(task.bytes);
  const { body } = task.request;
  return "bytes" in body ? movableBuffer(body.bytes) : undefined;
}

export interface Slot {
  readonly index: number;
  worker: Worker;
  readonly outbox: Outbox<ToWorker>;
  ready: boolean;
  readonly inflight: IdTable<RunningInvocation>;
  probing: boolean;
  pingSeq: number;
  /** Why the worker is going away, when the host decided it. */
  lostReason?: ErrorDefinition;
}

/**
 * A module's worker threads, or those of one of its overrides (the same module with its own
 * heap limit, process.env and thread count). Invocations go to the least busy ready worker
 * and run there concurrently, each under its function's profile (time limit, host calls), so
 * functions whose limits differ only host-side share a pool. A throwing function fails only
 * its invocation; an invocation over its time limit fails, and if its worker no longer
 * answers (a loop) the worker is terminated and replaced; a worker out of memory is replaced
 * and its invocations fail.
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: RunningInvocation[] = [];
  private readonly invocations = new IdTable<RunningInvocation>();
  private stopping = false;
  manifest: ModuleManifest = { typenames: [], web: [] };
  /** The web requests this pool's workers serve themselves (Node with `reusePort`). */
  readonly web: WorkerWebHub;

  private constructor(private readonly options: PoolOptions) {
    this.web = new WorkerWebHub({
      module: options.module,
      readySlots: () => this.slots.filter((slot) => slot.ready),
      replace: (slot) => this.replaceStuck(slot),
      functionError: (error) => this.functionError(error),
    });
  }

  static async start(options: PoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    try {
      const manifests = await Promise.all(
        Array.from({ length: options.workers }, (_, index) => pool.spawn(index)),
      );
      pool.manifest = manifests[0] ?? pool.manifest;
    } catch (error) {
      await pool.stop();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  /** The module file as configured (the pool's name in logs and metrics). */
  get module(): string {
    return this.options.module;
  }

  /**
   * Busy, idle and queued right now; read at scrape time, never on the hot path. A worker
   * starting or being replaced, with nothing running, is neither busy nor idle.
   */
  stats(): PoolStats {
    let busy = 0;
    let idle = 0;
    for (const slot of this.slots) {
      if (slot.inflight.size > 0) busy++;
      else if (slot.ready) idle++;
    }
    let queued = 0;
    // Cancelled invocations stay in the queue until it drains; they wait for nothing.
    for (const invocation of this.queue) if (!invocation.settled) queued++;
    return { busy, idle, queued };
  }

  /** Invocations running or queued (a pool being replaced is closed once this reaches 0). */
  get inFlight(): number {
    return this.invocations.size + this.web.inFlight;
  }

  /** The override this pool runs, if it is not the module's own pool. */
  get override(): string | undefined {
    return this.options.override;
  }

  /** Starts an invocation under its function's `profile` (time limit, host calls). */
  run(id: number, task: Task, profile: InvocationProfile): RunningInvocation {
    const invocation = new RunningInvocation(id, this.options.module, task, profile);
    if (this.stopping) {
      invocation.settled = true;
      invocation.rejectResult(new SwitchboardError(HostErrors.STOPPING, "the function host is stopping"));
      return invocation;
    }
    this.invocations.set(invocation.id, invocation);
    const slot = this.pick();
    if (slot) this.dispatch(slot, invocation);
    else this.queue.push(invocation);
    return invocation;
  }

  /** Fails an invocation from outside (its client went away). */
  cancel(invocation: RunningInvocation, reason: Error): void {
    this.fail(invocation, reason);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const stopping = new SwitchboardError(HostErrors.STOPPING, "the function host is stopping");
    for (const invocation of this.invocations.values()) this.fail(invocation, stopping);
    await Promise.all(this.slots.map((slot) => slot.worker.terminate().catch(() => 0)));
  }

  private pick(): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (slot.ready && (!best || slot.inflight.size < best.inflight.size)) best = slot;
    }
    return best;
  }

  private dispatch(slot: Slot, invocation: RunningInvocation): void {
    invocation.slot = slot;
    slot.inflight.set(invocation.id, invocation);
    const { timeoutMs } = invocation.profile;
    invocation.deadlineAt = performance.now() + timeoutMs;
    invocation.timer = setTimeout(() => this.timedOut(invocation), timeoutMs);
    const { task } = invocation;
    const message: ToWorker =
      task.kind === "stateful"
        ? { t: "run", id: invocation.id, kind: "stateful", bytes: task.bytes }
        : packWebRun(invocation.id, task.request);
    slot.outbox.send(message, transferable(task));
  }

  private spawn(index: number): Promise<ModuleManifest> {
    const { options } = this;
    const worker = spawnWorker({
      moduleUrl: options.moduleUrl,
      env: options.env,
      memoryMb: options.memoryMb,
      name: `switchboard ${options.module}${options.override ? ` overrides.${options.override}` : ""} #${index}`,
      lane: ++lanes,
    });
    const slot: Slot = {
      index,
      worker,
      outbox: new Outbox<ToWorker>(
        (message, transfer) => worker.postMessage(message, transfer),
        (message, error) => this.undeliverable(slot, message, error),
      ),
      ready: false,
      inflight: new IdTable(),
      probing: false,
      pingSeq: 0,
    };
    this.slots[index] = slot;
    return new Promise((resolve, reject) => {
      let loadError: SerializedError | undefined;
      let outOfMemory = false;
      worker.on("message", (batch: FromWorker | Batch<FromWorker>) => unbatch(batch, onMessage));
      const onMessage = (message: FromWorker) => {
        if (Array.isArray(message)) this.onMessage(slot, message);
        else if (message.t === "ready") {
          slot.ready = true;
          resolve({ typenames: message.typenames, web: message.web });
          this.drainQueue();
          this.web.slotReady(slot);
        } else if (message.t === "load-failed") loadError = message.error;
        else this.onMessage(slot, message);
      };
      worker.on("error", (error: Error & { code?: string }) => {
        if (error.code === "ERR_WORKER_OUT_OF_MEMORY") outOfMemory = true;
        else if (!slot.ready) loadError ??= serializeError(error);
        else
          options.logger.error(
            { module: options.module, err: this.scrub(serializeError(error)) },
            "worker crashed",
          );
      });
      worker.on("exit", (code) => {
        slot.ready = false;
        const why = outOfMemory
          ? new SwitchboardError(
              HostErrors.OUT_OF_MEMORY,
              `the worker ran out of memory (${options.override ? `overrides.${options.override}.` : ""}limits.memory ${options.memoryMb} MB) and was replaced`,
              { module: options.module },
            )
          : new SwitchboardError(
              HostErrors.WORKER_LOST,
              slot.lostReason === HostErrors.TIMEOUT
                ? "the worker was replaced because an invocation on it stopped answering"
                : `the worker exited (code ${code}) and was replaced`,
              { module: options.module },
            );
        for (const invocation of slot.inflight.values()) this.fail(invocation, why);
        this.web.slotLost(slot, why);
        const failure = new SwitchboardError(
          HostErrors.MODULE_LOAD_FAILED,
          `${options.module} could not be loaded: ${loadError ? options.redact(loadErrorText(loadError, options.moduleUrl)) : `worker exited with code ${code}`}`,
          { module: options.module },
        );
        reject(failure);
        if (this.stopping || this.slots[index] !== slot) return;
        if (outOfMemory)
          options.logger.warn({ module: options.module }, "worker out of memory; replacing it");
        const respawn = () => {
          if (this.stopping) return;
          this.spawn(index).catch((error: Error) => {
            options.logger.error({ module: options.module, err: error.message }, "replacing a worker failed");
          });
        };
        if (slot.ready || loadError === undefined) respawn();
        else setTimeout(respawn, RESPAWN_BACKOFF_MS).unref();
      });
    });
  }

  private drainQueue(): void {
    while (this.queue.length > 0) {
      const slot = this.pick();
      if (!slot) return;
      const invocation = this.queue.shift() as RunningInvocation;
      if (!invocation.settled) this.dispatch(slot, invocation);
    }
  }

  private onMessage(slot: Slot, message: FromWorker): void {
    if (Array.isArray(message)) {
      const { id, response } = unpackWebDone(message);
      const invocation = slot.inflight.get(id);
      if (!invocation || invocation.settled) return;
      invocation.resolveResult(response);
      this.settle(invocation);
      return;
    }
    switch (message.t) {
      case "done": {
        const invocation = slot.inflight.get(message.id);
        if (!invocation || invocation.settled) return;
        if (!message.ok) {
          this.fail(invocation, this.functionError(message.error));
          return;
        }
        const value = message.value;
        if (!(value instanceof Uint8Array) && value.body.kind === "stream") {
          invocation.streaming = true;
          invocation.resolveResult(value);
          return;
        }
        invocation.resolveResult(value);
        this.settle(invocation);
        return;
      }
      case "end": {
        const invocation = slot.inflight.get(message.id);
        if (!invocation || invocation.settled) return;
        if (message.error) this.fail(invocation, this.functionError(message.error));
        else {
          invocation.resolveEnd();
          this.settle(invocation);
        }
        return;
      }
      case "call":
        void this.hostCall(slot, message);
        return;
      case "pong":
        if (message.n === slot.pingSeq && slot.probing) {
          slot.probing = false;
          slot.ready = true;
          this.drainQueue();
        }
        return;
      default:
        this.web.onMessage(slot, message as WebFromWorker);
    }
  }

  private async hostCall(slot: Slot, message: Extract<FromWorker, { t: "call" }>): Promise<void> {
    // Only the worker running an invocation (or serving the request) may call on its behalf.
    const running = slot.inflight.get(message.id);
    const invocation: (Invocation & { profile: InvocationProfile }) | undefined =
      running && !running.settled
        ? running
        : message.id < 0
          ? this.web.invocationFor(slot, message)
          : undefined;
    let reply: ToWorker;
    let transfer: ArrayBuffer[] | undefined;
    try {
      if (!invocation)
        throw new SwitchboardError(HostErrors.STOPPING, `invocation ${message.id} has already ended`);
      const result = await invocation.profile.calls.call(message.op, invocation, message.args);
      reply = { t: "reply", callId: message.callId, ok: true, value: result.value };
      transfer = result.transfer;
    } catch (error) {
      const serialized = serializeError(error);
      reply = {
        t: "reply",
        callId: message.callId,
        ok: false,
        error: { ...scrubError(serialized, this.options.redact), stack: "" },
      };
    }
    if (slot.worker && this.slots[slot.index] === slot) slot.outbox.send(reply, transfer);
  }

  /** A message the worker cannot be sent fails only its invocation or host call. */
  private undeliverable(slot: Slot, message: ToWorker, error: Error): void {
    if (Array.isArray(message) || message.t === "run") {
      const id = Array.isArray(message) ? message[1] : message.id;
      const invocation = slot.inflight.get(id);
      const { message: text } = unsendableError("the invocation's request", error);
      if (invocation) this.fail(invocation, new SwitchboardError(HostErrors.UNSENDABLE, text));
      return;
    }
    if (message.t === "reply") {
      slot.outbox.send({
        t: "reply",
        callId: message.callId,
        ok: false,
        error: unsendableError("the host call's answer", error),
      });
      return;
    }
    // A ping is plain data.
    throw error;
  }

  /** A function's error as the host reports it: secrets scrubbed, SDK input errors as 400s. */
  functionError(error: SerializedError): SwitchboardError {
    const scrubbed = this.scrub(error);
    if (error.code === "SB_SDK_BAD_INPUT")
      return new SwitchboardError(HostErrors.BAD_INPUT, scrubbed.message, { module: this.options.module });
    return new SwitchboardError(
      HostErrors.FUNCTION_FAILED,
      `${this.options.module}: ${scrubbed.message}`,
      { module: this.options.module, ...(scrubbed.code ? { functionCode: scrubbed.code } : {}) },
      { cause: scrubbed },
    );
  }

  private scrub(error: SerializedError): SerializedError {
    return scrubError(error, this.options.redact);
  }

  private timedOut(invocation: RunningInvocation): void {
    if (invocation.settled) return;
    const slot = invocation.slot;
    const { timeoutMs, timeoutSetting } = invocation.profile;
    this.fail(
      invocation,
      new SwitchboardError(
        HostErrors.TIMEOUT,
        `the invocation ran longer than ${timeoutSetting} (${timeoutMs} ms)`,
        { module: this.options.module, timeoutMs },
      ),
    );
    if (slot) this.probe(slot);
  }

  /** A worker serving web requests itself stopped answering beats: stuck in synchronous code. */
  private replaceStuck(slot: Slot): void {
    if (this.slots[slot.index] !== slot || !slot.ready) return;
    this.options.logger.warn(
      { module: this.options.module, worker: slot.index },
      "a worker serving web requests stopped answering; replacing it",
    );
    slot.ready = false;
    slot.lostReason = HostErrors.TIMEOUT;
    void slot.worker.terminate();
  }

  /** A worker that cannot answer a ping is stuck in synchronous code: replace it. */
  private probe(slot: Slot): void {
    if (slot.probing || !slot.ready) return;
    // No new work for a worker that may be stuck until it proves otherwise.
    slot.probing = true;
    slot.ready = false;
    const n = ++slot.pingSeq;
    slot.outbox.send({ t: "ping", n } satisfies ToWorker);
    setTimeout(() => {
      if (!slot.probing || slot.pingSeq !== n || this.slots[slot.index] !== slot) return;
      this.options.logger.warn(
        { module: this.options.module, worker: slot.index },
        "a worker stopped answering after a timeout; replacing it",
      );
      slot.lostReason = HostErrors.TIMEOUT;
      void slot.worker.terminate();
    }, PROBE_MS).unref();
  }

  private fail(invocation: RunningInvocation, error: Error): void {
    if (invocation.settled) return;
    invocation.rejectResult(error);
    invocation.rejectEnd(error);
    invocation.abort(error);
    this.settle(invocation);
  }

  private settle(invocation: RunningInvocation): void {
    invocation.settled = true;
    if (invocation.timer) clearTimeout(invocation.timer);
    invocation.slot?.inflight.delete(invocation.id);
    this.invocations.delete(invocation.id);
    invocation.profile.calls.ended(invocation);
  }
}
