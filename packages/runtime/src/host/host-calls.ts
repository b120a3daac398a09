import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { Invocation } from "./invocation.js";

/** What a host call answers: a value, plus ArrayBuffers to move (not copy) to the worker. */
export interface HostCallResult {
  readonly value: unknown;
  readonly transfer?: ArrayBuffer[];
}

export type HostCall = (invocation: Invocation, args: unknown) => Promise<HostCallResult> | HostCallResult;

/** Lets go of what a capability holds for an invocation (it ended, failed or timed out). */
export type InvocationEndHook = (invocation: Invocation) => void;

/**
 * The calls a worker can make into the host, by name (docs/host.md lists them). A new
 * capability (e.g. a cache) is new rows here plus an SDK wrapper; workers need no change.
 */
export class HostCallTable {
  private readonly calls = new Map<string, HostCall>();
  private readonly endHooks: InvocationEndHook[] = [];

  register(op: string, call: HostCall): this {
    if (this.calls.has(op)) throw new Error(`host call ${op} is registered twice`);
    this.calls.set(op, call);
    return this;
  }

  /** Runs `hook` once for every invocation run with this table when it ends, however it ends. */
  onInvocationEnd(hook: InvocationEndHook): this {
    this.endHooks.push(hook);
    return this;
  }

  /** Called by the worker pool as an invocation settles; a failing hook harms no other. */
  ended(invocation: Invocation): void {
    for (const hook of this.endHooks) {
      try {
        hook(invocation);
      } catch {
        // A cleanup hook must not keep the pool from settling the invocation.
      }
    }
  }

  ops(): string[] {
    return [...this.calls.keys()].sort();
  }

  async call(op: string, invocation: Invocation, args: unknown): Promise<HostCallResult> {
    const call = this.calls.get(op);
    if (!call)
      throw new SwitchboardError(HostErrors.UNKNOWN_HOST_CALL, `there is no host call ${op}`, { op });
    return call(invocation, args);
  }
}
