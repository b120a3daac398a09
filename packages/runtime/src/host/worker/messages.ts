/**
 * The messages between the host (main thread) and one worker, over the worker's port.
 * Invocations: host `run` -> worker `done` (and, for a streamed web response, `end`).
 * Host calls: worker `call` -> host `reply`. Liveness: host `ping` -> worker `pong`.
 * Web requests a worker serves itself (a shared port): web-messages.ts.
 */
import type { WireWebRequest, WireWebResponse } from "@switchboard/sdk/internal";
import { HostErrors } from "../../errors/host-errors.js";
import type { PackedWebDone, PackedWebRun } from "./packed-web.js";
import type { WebFromWorker, WebToWorker } from "./web-messages.js";

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
  readonly status?: number;
  /** The error's `cause`, so the host log shows the whole chain (scrubbed like the rest). */
  readonly cause?: SerializedError;
}

/** How many causes deep an error is carried; a longer (or cyclic) chain is cut there. */
const CAUSE_DEPTH = 4;

export interface WebFunctionInfo {
  readonly name: string;
  readonly input: "data" | "bytes" | "text" | "json";
}

export type ToWorker =
  | { readonly t: "run"; readonly id: number; readonly kind: "stateful"; readonly bytes: Uint8Array }
  | { readonly t: "run"; readonly id: number; readonly kind: "web"; readonly request: WireWebRequest }
  | { readonly t: "reply"; readonly callId: number; readonly ok: true; readonly value: unknown }
  | { readonly t: "reply"; readonly callId: number; readonly ok: false; readonly error: SerializedError }
  | { readonly t: "ping"; readonly n: number }
  | PackedWebRun
  | WebToWorker;

export type FromWorker =
  | { readonly t: "ready"; readonly typenames: string[]; readonly web: WebFunctionInfo[] }
  | { readonly t: "load-failed"; readonly error: SerializedError }
  | {
      readonly t: "done";
      readonly id: number;
      readonly ok: true;
      readonly value: Uint8Array | WireWebResponse;
    }
  | { readonly t: "done"; readonly id: number; readonly ok: false; readonly error: SerializedError }
  | { readonly t: "end"; readonly id: number; readonly error?: SerializedError }
  | {
      readonly t: "call";
      readonly callId: number;
      readonly id: number;
      readonly op: string;
      readonly args: unknown;
      /** For a request the worker serves itself: its function and ms left before its deadline. */
      readonly served?: { readonly fn: string; readonly left: number };
    }
  | { readonly t: "pong"; readonly n: number }
  | PackedWebDone
  | WebFromWorker;

export function serializeError(error: unknown, depth = 0): SerializedError {
  if (error instanceof Error) {
    const { code, status, cause } = error as Error & { code?: unknown; status?: unknown };
    return {
      name: error.name,
      message: error.message,
      ...(error.stack !== undefined ? { stack: error.stack } : {}),
      ...(typeof code === "string" ? { code } : {}),
      ...(typeof status === "number" ? { status } : {}),
      ...(cause !== undefined && depth < CAUSE_DEPTH ? { cause: serializeError(cause, depth + 1) } : {}),
    };
  }
  return { name: "Error", message: String(error) };
}

/**
 * The error for a message that could not be posted: `what` (a host call's arguments, a
 * function's answer) holds a value threads cannot share, as the clone error says.
 */
export function unsendableError(what: string, cause: Error): SerializedError {
  return {
    name: "UnsendableError",
    message: `${what} cannot be sent between threads: ${cause.message}`,
    code: HostErrors.UNSENDABLE.code,
    status: HostErrors.UNSENDABLE.status,
  };
}
