import {
  decodeFromFunction,
  encodeToFunction,
  type FromFunction,
  type ToFunction,
} from "@switchboard/sdk/protocol";
import { type FunctionInvoker, type InvocationCall, invokeEncoded } from "../invoke/function-invoker.js";
import type { FunctionTarget } from "./function-targets.js";

/**
 * Runs stateful functions in the host's workers: the same ToFunction/FromFunction exchange
 * as a remote call (so the same Context, state and durability), without the HTTP hop. A
 * failure is a SwitchboardError, which the dispatcher handles like a failed remote call.
 */
export class EmbeddedInvoker implements FunctionInvoker {
  constructor(
    private readonly targetOf: (typename: string) => FunctionTarget | undefined,
    private readonly fallback: FunctionInvoker,
    private readonly nextId: () => number,
    /** Lets go of whatever Data the invocation still holds (it may have called out). */
    private readonly release: (id: number) => void,
  ) {}

  invoke(fn: string, request: ToFunction, call?: InvocationCall): Promise<FromFunction> {
    const target = this.targetOf(fn);
    if (!target) return this.fallback.invoke(fn, request, call);
    return this.run(target, encodeToFunction(request));
  }

  invokeEncoded(fn: string, body: Uint8Array, call?: InvocationCall): Promise<FromFunction> {
    const target = this.targetOf(fn);
    if (!target) return invokeEncoded(this.fallback, fn, body, call);
    return this.run(target, body);
  }

  private async run({ pool, profile }: FunctionTarget, bytes: Uint8Array): Promise<FromFunction> {
    const id = this.nextId();
    const invocation = pool.run(id, { kind: "stateful", bytes }, profile);
    try {
      return decodeFromFunction((await invocation.result) as Uint8Array);
    } finally {
      this.release(id);
    }
  }
}
