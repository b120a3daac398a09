/**
 * The program each host worker runs: installs the host bridge, loads the user's module,
 * reports what it serves, then runs invocations the host sends. Several invocations run
 * concurrently (they are promises); AsyncLocalStorage ties each host call to its invocation.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { parentPort, workerData } from "node:worker_threads";
import { isWebFunction, RequestReplyHandler, StatefulFunctions, type WebFunction } from "@switchboard/sdk";
import { type DataRef, installHostBridge, runWebFunction } from "@switchboard/sdk/internal";
import {
  type FromWorker,
  type SerializedError,
  serializeError,
  type ToWorker,
  unsendableError,
} from "./messages.js";
import { movableBuffer } from "./movable-buffer.js";
import { type Batch, Outbox, unbatch } from "./outbox.js";
import { packWebDone, unpackWebRun } from "./packed-web.js";
import type { WebToWorker } from "./web-messages.js";
import { WebServing } from "./web-serving.js";

interface WorkerData {
  readonly moduleUrl: string;
  /** This worker's own range of request ids, for requests it serves itself. */
  readonly lane: number;
}

const WEB_MESSAGES = new Set<string>(["web-listen", "web-close", "body-pull", "body-release", "beat"]);

const port = parentPort;
if (!port) throw new Error("worker-main runs only as a worker thread");
const { moduleUrl, lane } = workerData as WorkerData;
const invocation = new AsyncLocalStorage<number>();
const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
let nextCallId = 1;
/** Set once the module is loaded: the requests this worker serves on its own server. */
let serving: WebServing | undefined;

const outbox = new Outbox<FromWorker>(
  (message, transfer) => port.postMessage(message, transfer),
  (message, error) => undeliverable(message, error),
);
const send = (message: FromWorker, transfer?: ArrayBuffer[]) => outbox.send(message, transfer);

/** Sends a message carrying a fresh call id; the host's reply to it settles the promise. */
function ask(make: (callId: number) => FromWorker, transfer?: ArrayBuffer[]): Promise<unknown> {
  const callId = nextCallId++;
  return new Promise((resolve, reject) => {
    waiting.set(callId, { resolve, reject });
    send(make(callId), transfer);
  });
}

/**
 * A host call for invocation `id`. A request this worker serves itself writes its stream
 * here, and tells the host which function it is so the host can apply that function's rules.
 */
function hostCall(id: number, op: string, args: unknown, transfer?: ArrayBuffer[]): Promise<unknown> {
  const served = serving?.request(id);
  if (!served) return ask((callId) => ({ t: "call", callId, id, op, args }), transfer);
  if (op === "stream.write") return served.write(args as DataRef);
  served.known = true;
  const info = { fn: served.route.name, left: served.left };
  return ask((callId) => ({ t: "call", callId, id, op, args, served: info }), transfer);
}

installHostBridge({
  call(op, args) {
    const id = invocation.getStore();
    if (id === undefined) return Promise.reject(new Error(`${op} can only be used while an invocation runs`));
    return hostCall(id, op, args);
  },
});

/**
 * A message that cannot reach the host (a function's value holds a callback, say) fails only
 * the host call or the invocation it belongs to, never the worker and the other invocations
 * running on it.
 */
function undeliverable(message: FromWorker, error: Error): void {
  if (Array.isArray(message)) {
    send({ t: "done", id: message[1], ok: false, error: unsendableError("the function's answer", error) });
    return;
  }
  switch (message.t) {
    case "call": {
      const pending = waiting.get(message.callId);
      waiting.delete(message.callId);
      pending?.reject(hostCallError(unsendableError(`${message.op}(): its arguments`, error)));
      return;
    }
    case "done":
      send({ t: "done", id: message.id, ok: false, error: unsendableError("the function's answer", error) });
      return;
    case "end":
      send({ t: "end", id: message.id, error: unsendableError("the end of the stream", error) });
      return;
    default:
      // The worker's own messages (ready, pong, load-failed) are plain data.
      throw error;
  }
}

function hostCallError(error: SerializedError): Error {
  const out = new Error(error.message) as Error & { code?: string; status?: number };
  out.name = "HostCallError";
  if (error.code) out.code = error.code;
  if (error.status) out.status = error.status;
  return out;
}

async function load(): Promise<{
  stateful: RequestReplyHandler;
  typenames: string[];
  web: Map<string, WebFunction>;
}> {
  const exports = (await import(moduleUrl)) as Record<string, unknown>;
  const merged = new StatefulFunctions();
  const web = new Map<string, WebFunction>();
  const values = new Set(Object.values(exports));
  for (const value of values) {
    if (isWebFunction(value)) {
      if (web.has(value.name) && web.get(value.name) !== value)
        throw new Error(`the module exports two web functions named ${value.name}`);
      web.set(value.name, value);
    } else if (isRegistry(value)) {
      for (const typename of value.typenames()) {
        const spec = value.get(typename);
        if (spec) merged.register(spec);
      }
    }
  }
  return { stateful: new RequestReplyHandler(merged), typenames: merged.typenames(), web };
}

/** Duck-typed, so a registry from another copy of the SDK is still found. */
function isRegistry(value: unknown): value is StatefulFunctions {
  return (
    value instanceof StatefulFunctions ||
    (typeof value === "object" &&
      value !== null &&
      typeof (value as StatefulFunctions).typenames === "function" &&
      typeof (value as StatefulFunctions).get === "function" &&
      typeof (value as StatefulFunctions).register === "function")
  );
}

let loaded: Awaited<ReturnType<typeof load>>;
try {
  loaded = await load();
} catch (error) {
  send({ t: "load-failed", error: serializeError(error) });
  outbox.flush(); // before exiting, which would drop a scheduled flush
  process.exit(1);
}
const { stateful, web } = loaded;
serving = new WebServing(lane, web, { send, flush: () => outbox.flush(), ask, call: hostCall }, invocation);

async function run(message: Extract<ToWorker, { t: "run" }>): Promise<void> {
  const { id } = message;
  try {
    if (message.kind === "stateful") {
      const reply = await stateful.handle(message.bytes);
      send({ t: "done", id, ok: true, value: reply }, movableBuffer(reply));
      return;
    }
    const fn = web.get(message.request.name);
    if (!fn) throw new Error(`no web function ${message.request.name} in this module`);
    const { response, pump } = await runWebFunction(fn, message.request);
    const transfer = response.body.kind === "bytes" ? movableBuffer(response.body.bytes) : undefined;
    send(packWebDone(id, response) ?? { t: "done", id, ok: true, value: response }, transfer);
    if (!pump) return;
    try {
      await pump();
      send({ t: "end", id });
    } catch (error) {
      send({ t: "end", id, error: serializeError(error) });
    }
  } catch (error) {
    send({ t: "done", id, ok: false, error: serializeError(error) });
  }
}

port.on("message", (message: ToWorker | Batch<ToWorker>) => unbatch(message, onMessage));

function onMessage(message: ToWorker): void {
  if (Array.isArray(message)) {
    const { id, request } = unpackWebRun(message);
    void invocation.run(id, () => run({ t: "run", id, kind: "web", request }));
    return;
  }
  if (WEB_MESSAGES.has(message.t)) {
    serving?.onMessage(message as WebToWorker);
    return;
  }
  switch (message.t) {
    case "run":
      void invocation.run(message.id, () => run(message));
      break;
    case "reply": {
      const pending = waiting.get(message.callId);
      if (!pending) break;
      waiting.delete(message.callId);
      if (message.ok) pending.resolve(message.value);
      else pending.reject(hostCallError(message.error));
      break;
    }
    case "ping":
      send({ t: "pong", n: message.n });
      break;
  }
}

send({
  t: "ready",
  typenames: loaded.typenames,
  web: [...web.values()].map((fn) => ({
    name: fn.name,
    input: typeof fn.input === "object" ? "json" : (fn.input ?? "bytes"),
  })),
});
