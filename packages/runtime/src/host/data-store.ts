import type { Readable } from "node:stream";
import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";

/** Host-held bytes behind a Data handle: a buffer, or a body stream not read yet. */
export type DataEntry =
  | { readonly kind: "bytes"; readonly bytes: Uint8Array }
  | {
      readonly kind: "stream";
      readonly stream: Readable;
      consumed: boolean;
      /** How to let go of an unread stream; default: destroy it (which aborts an upstream call). */
      readonly release?: () => void;
    };

interface Held {
  entry: DataEntry;
  readonly owner: number;
}

/**
 * Every Data the host holds, by id. Entries belong to one invocation and are released
 * when it ends, except a stream handed to a response, which lives until relayed.
 */
export class DataStore {
  private readonly entries = new Map<number, Held>();
  private readonly byOwner = new Map<number, Set<number>>();
  private nextId = 1;

  put(owner: number, entry: DataEntry): number {
    const id = this.nextId++;
    this.adopt(owner, id, entry);
    return id;
  }

  /**
   * Holds `entry` under an id chosen outside: a worker serving a request itself names its
   * body's Data before the host hears of it (negative ids, which `put` never hands out).
   */
  adopt(owner: number, id: number, entry: DataEntry): void {
    // Whoever reads or relays the stream hears of its errors; one failing while nobody does
    // yet (an outbound call cut by the transport closing) must not crash the process.
    if (entry.kind === "stream") entry.stream.on("error", ignore);
    this.entries.set(id, { entry, owner });
    let ids = this.byOwner.get(owner);
    if (!ids) {
      ids = new Set();
      this.byOwner.set(owner, ids);
    }
    ids.add(id);
  }

  get(owner: number, id: number): DataEntry {
    const held = this.entries.get(id);
    if (!held || held.owner !== owner) {
      throw new SwitchboardError(HostErrors.UNKNOWN_DATA, `Data ${id} is unknown to this invocation`, { id });
    }
    return held.entry;
  }

  /** Takes a stream for relaying: it can be relayed (or read) once. */
  takeStream(owner: number, id: number): Readable {
    const entry = this.get(owner, id);
    if (entry.kind !== "stream") throw new Error("not a stream");
    if (entry.consumed) {
      throw new SwitchboardError(HostErrors.DATA_CONSUMED, `Data ${id} was already relayed or read`, { id });
    }
    entry.consumed = true;
    return entry.stream;
  }

  /** Reads a whole entry into memory (bounded by `limit`); the entry becomes bytes. */
  async read(owner: number, id: number, limit: number): Promise<Uint8Array> {
    const entry = this.get(owner, id);
    if (entry.kind === "bytes") {
      if (entry.bytes.length > limit) throw tooLarge(id, limit);
      return entry.bytes;
    }
    const stream = this.takeStream(owner, id);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        stream.destroy();
        throw tooLarge(id, limit);
      }
      chunks.push(chunk);
    }
    const bytes = Buffer.concat(chunks, size);
    const held = this.entries.get(id);
    if (held) held.entry = { kind: "bytes", bytes };
    return bytes;
  }

  /** Forgets an entry without touching its stream (it was handed to a response). */
  detach(id: number): void {
    const held = this.entries.get(id);
    if (!held) return;
    this.entries.delete(id);
    this.byOwner.get(held.owner)?.delete(id);
  }

  /** Releases everything `owner` holds; unread streams are let go (aborting upstreams). */
  releaseAll(owner: number): void {
    const ids = this.byOwner.get(owner);
    if (!ids) return;
    this.byOwner.delete(owner);
    for (const id of ids) {
      const held = this.entries.get(id);
      if (!held) continue;
      this.entries.delete(id);
      const { entry } = held;
      if (entry.kind === "stream" && !entry.consumed) {
        if (entry.release) entry.release();
        else {
          entry.stream.on("error", () => {});
          entry.stream.destroy();
        }
      }
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

function ignore(): void {}

function tooLarge(id: number, limit: number): SwitchboardError {
  return new SwitchboardError(
    HostErrors.DATA_TOO_LARGE,
    `Data ${id} is larger than limits.dataBytes (${limit} bytes); relay it instead of reading it`,
    { id, limit },
  );
}
