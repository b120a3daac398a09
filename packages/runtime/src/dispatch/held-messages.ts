import type { StoredMessage } from "../store/records.js";

/** Across all addresses, at most this many payload bytes are kept in hand. */
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The bound on the stored messages dispatch keeps in hand (Mailbox.known) so that it can send
 * them without reading them back from the store. They are copies: the store holds every one of
 * them, so whatever this refuses is simply read back later. Counted by messages and by payload
 * bytes, so memory stays bounded whatever is queued.
 */
export class HeldMessages {
  private count = 0;
  private bytes = 0;

  constructor(
    private readonly maxCount: number,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
  ) {}

  /** Counts `message` in if there is room; false (nothing counted) when there is none. */
  take(message: StoredMessage): boolean {
    const size = message.argument.value.byteLength;
    if (this.count + 1 > this.maxCount || this.bytes + size > this.maxBytes) return false;
    this.count++;
    this.bytes += size;
    return true;
  }

  /** Counts out messages that were taken and are no longer held. */
  give(messages: readonly StoredMessage[]): void {
    for (const message of messages) {
      this.count--;
      this.bytes -= message.argument.value.byteLength;
    }
  }

  get held(): { readonly messages: number; readonly bytes: number } {
    return { messages: this.count, bytes: this.bytes };
  }
}
