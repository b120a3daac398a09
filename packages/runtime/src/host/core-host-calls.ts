import type { DataRef, WireHttpRequest } from "@switchboard/sdk/internal";
import type { DataStore } from "./data-store.js";
import type { HostCallTable } from "./host-calls.js";
import { invokeHttp, type OutboundContext } from "./outbound-http.js";

export interface CoreCallContext extends OutboundContext {
  readonly data: DataStore;
  /** limits.dataBytes: the most a function may read into its memory at once. */
  readonly dataBytes: number;
}

/**
 * The host calls every module gets (docs/host.md has the table):
 * `data.read`, `http.invoke`, `stream.write`.
 */
export function registerCoreHostCalls(table: HostCallTable, context: CoreCallContext): HostCallTable {
  return table
    .register("data.read", async (invocation, args) => {
      const { id } = args as { id: number };
      const bytes = await context.data.read(invocation.id, id, context.dataBytes);
      // One copy into a buffer of its own, which then moves to the worker without another.
      const copy = new Uint8Array(bytes.length);
      copy.set(bytes);
      return { value: copy.buffer, transfer: [copy.buffer] };
    })
    .register("http.invoke", (invocation, args) => invokeHttp(context, invocation, args as WireHttpRequest))
    .register("stream.write", async (invocation, args) => {
      const sink = await invocation.streamSink();
      const ref = args as DataRef;
      if ("bytes" in ref) await sink(ref.bytes);
      else {
        const entry = context.data.get(invocation.id, ref.id);
        await sink(entry.kind === "bytes" ? entry.bytes : context.data.takeStream(invocation.id, ref.id));
      }
      return { value: undefined };
    });
}
