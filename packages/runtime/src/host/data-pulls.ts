import type { Readable } from "node:stream";
import type { DataStore } from "./data-store.js";

interface Pull {
  readonly stream?: Readable;
  readonly iterator?: AsyncIterator<Uint8Array>;
  bytes?: Uint8Array | undefined;
  done: boolean;
}

/**
 * Host Data read out chunk by chunk by the worker that serves the response it goes to (the
 * `data.pull` host call): a relayed body or a streamed Data chunk crosses to the worker one
 * chunk per call, so memory stays bounded whatever the size. A stream pulled is taken (it
 * relays once, as on the hop path); one not pulled to its end when its invocation ends is
 * destroyed, which aborts an upstream still sending it.
 */
export class DataPulls {
  private readonly pulls = new Map<number, Map<number, Pull>>();

  constructor(private readonly data: DataStore) {}

  /**
   * The next chunk of Data `id` of invocation `owner`, or null once it is all out. `owned`:
   * the chunk came off a stream and nothing else holds it (bytes held in the host, a cached
   * value say, are shared and must be copied, never moved).
   */
  async next(owner: number, id: number): Promise<{ chunk: Uint8Array; owned: boolean } | null> {
    let pull = this.pulls.get(owner)?.get(id);
    if (!pull) {
      // Looked up before anything is recorded: a pull that comes after its invocation ended
      // (the worker pulls ahead) fails here and leaves nothing behind.
      const entry = this.data.get(owner, id);
      if (entry.kind === "bytes") pull = { bytes: entry.bytes, done: false };
      else {
        const stream = this.data.takeStream(owner, id);
        pull = { stream, iterator: stream[Symbol.asyncIterator](), done: false };
      }
      let byId = this.pulls.get(owner);
      if (!byId) {
        byId = new Map();
        this.pulls.set(owner, byId);
      }
      byId.set(id, pull);
    }
    if (pull.done) return null;
    if (pull.iterator) {
      const next = await pull.iterator.next();
      if (next.done) pull.done = true;
      return next.done ? null : { chunk: next.value as Uint8Array, owned: true };
    }
    const { bytes } = pull;
    pull.bytes = undefined;
    pull.done = bytes === undefined;
    return bytes ? { chunk: bytes, owned: false } : null;
  }

  /** Lets go of what `owner` pulled: unfinished streams are destroyed. */
  release(owner: number): void {
    const byId = this.pulls.get(owner);
    if (!byId) return;
    this.pulls.delete(owner);
    for (const pull of byId.values()) {
      if (pull.stream && !pull.done) {
        pull.stream.on("error", () => {});
        pull.stream.destroy();
      }
    }
  }
}
