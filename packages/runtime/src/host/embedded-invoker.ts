import {
  decodeFromFunction,
  encodeToFunction,
  type FromFunction,
  type ToFunction,
} from "@switchboard/sdk/protocol";
import { type FunctionInvoker, type InvocationCall, invokeEncoded } from "../invoke/function-invoker.js";
import type { WorkerPool } from "./worker-pool.js";

/**
 * Runs stateful functions in the host's workers: the same ToFunction/FromFunction exchange
 * as a remote call (so the same Context, state and durability), without the HTTP hop. A
 * failure is a SwitchboardError, which the dispatcher handles like a failed remote call.
 */
export class EmbeddedInvoker implements FunctionInvoker {
  constructor(
    private readonly poolFor: (typename: string) => WorkerPool | undefined,
    private readonly fallback: FunctionInvoker,
    private readonly nextId: () => number,
    /** Lets go of whatever Data the invocation still holds (it may have called out). */
    private readonly release: (id: number) => void,
  ) {}

  invoke(fn: string, request: ToFunction, call?: InvocationCall): Promise<FromFunction> {
    const pool = this.poolFor(fn);
    if (!pool) return this.fallback.invoke(fn, request, call);
    return this.run(pool, encodeToFunction(request));
  }

  invokeEncoded(fn: string, body: Uint8Array, call?: InvocationCall): Promise<FromFunction> {
    const pool = this.poolFor(fn);
    if (!pool) return invokeEncoded(this.fallback, fn, body, call);
    return this.run(pool, body);
  }

  private async run(pool: WorkerPool, bytes: Uint8Array): Promise<FromFunction> {
    const id = this.nextId();
    const invocation = pool.run(id, { kind: "stateful", bytes });
    try {
      return decodeFromFunction((await invocation.result) as Uint8Array);
    } finally {
      this.release(id);
    }
  }
}
