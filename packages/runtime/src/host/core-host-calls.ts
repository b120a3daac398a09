import type { DataRef, WireHttpRequest } from "@switchboard/sdk/internal";
import { DataPulls } from "./data-pulls.js";
import type { DataStore } from "./data-store.js";
import type { HostCallTable } from "./host-calls.js";
import { invokeHttp, type OutboundContext } from "./outbound-http.js";
import { movableBuffer } from "./worker/movable-buffer.js";

export interface CoreCallContext extends OutboundContext {
  readonly data: DataStore;
  /** limits.dataBytes: the most a function may read into its memory at once. */
  readonly dataBytes: number;
}

/**
 * The host calls every module gets (docs/host.md has the table):
 * `data.read`, `http.invoke`, `stream.write`, and `data.pull` (a worker serving a response
 * itself relays host Data with it).
 */
export function registerCoreHostCalls(table: HostCallTable, context: CoreCallContext): HostCallTable {
  const pulls = new DataPulls(context.data);
  return table
    .onInvocationEnd((invocation) => pulls.release(invocation.id))
    .register("data.pull", async (invocation, args) => {
      const { id, spare } = args as { id: number; spare?: ArrayBuffer };
      const next = await pulls.next(invocation.id, id);
      if (next === null) return { value: null };
      return chunkForWorker(next.chunk, next.owned, spare);
    })
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

/** Room for one chunk off a socket (64 KiB reads): buffers made for the worker are at least this. */
const PULL_BUFFER_BYTES = 64 * 1024;

/**
 * A pulled chunk as it goes to the worker, always moved, never cloned. A stream's chunk that
 * is a whole buffer of its own moves as it is; otherwise it is copied into the `spare` the
 * worker sent back (a buffer of an earlier chunk it has written), or into a new buffer. Reusing
 * spares matters: every buffer a worker receives counts as external memory there, and a relay
 * of new buffers made the worker run a full collection every ~70 ms.
 */
function chunkForWorker(
  chunk: Uint8Array,
  owned: boolean,
  spare: ArrayBuffer | undefined,
): { value: Uint8Array; transfer: ArrayBuffer[] } {
  const own = owned ? movableBuffer(chunk) : undefined;
  if (own) return { value: chunk, transfer: own };
  const target =
    spare && spare.byteLength >= chunk.length
      ? spare
      : new ArrayBuffer(Math.max(chunk.length, PULL_BUFFER_BYTES));
  const view = new Uint8Array(target, 0, chunk.length);
  view.set(chunk);
  return { value: view, transfer: [target] };
}
