/**
 * Messages to the other side of a worker port, sent together once per event-loop turn.
 * Each postMessage costs a serialization pass, a lock and, when the other thread sleeps, a
 * wake-up; under load one turn produces many messages (every web request parsed in one
 * poll phase, every result of one batch), and sending them as one `batch` turns N wake-ups
 * into one. The flush runs in the same turn (setImmediate follows the poll phase), so a
 * lone message waits no longer than the rest of the current turn. Order is kept.
 */
export interface Batch<T> {
  readonly t: "batch";
  readonly messages: T[];
}

/** What to do with a message that cannot be posted (it holds a function, say). */
export type Undeliverable<T> = (message: T, error: Error) => void;

export class Outbox<T> {
  private messages: T[] = [];
  private transfer: ArrayBuffer[] = [];
  /** For each buffer in `transfer`, the index of the message it belongs to. */
  private owners: number[] = [];
  private scheduled = false;
  private readonly flushLater = () => this.flush();

  constructor(
    private readonly post: (message: T | Batch<T>, transfer: ArrayBuffer[]) => void,
    private readonly undeliverable: Undeliverable<T>,
  ) {}

  send(message: T, transfer?: readonly ArrayBuffer[]): void {
    const index = this.messages.push(message) - 1;
    if (transfer) {
      for (const buffer of transfer) {
        this.transfer.push(buffer);
        this.owners.push(index);
      }
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushLater);
    }
  }

  /** Sends what is waiting now (also called by the scheduled flush). */
  flush(): void {
    this.scheduled = false;
    const { messages, transfer, owners } = this;
    if (messages.length === 0) return;
    this.messages = [];
    this.transfer = [];
    this.owners = [];
    try {
      this.post(messages.length === 1 ? (messages[0] as T) : { t: "batch", messages }, transfer);
    } catch {
      // A batch fails whole when one message cannot be cloned; nothing was sent or moved.
      // Sending one by one lets every other message through, and only the bad one fails.
      messages.forEach((message, index) => {
        const own = transfer.filter((_, at) => owners[at] === index);
        try {
          this.post(message, own);
        } catch (error) {
          this.undeliverable(message, error instanceof Error ? error : new Error(String(error)));
        }
      });
    }
  }
}

/** Calls `handle` for a message, or for each message of a batch, in order. */
export function unbatch<T>(message: T | Batch<T>, handle: (message: T) => void): void {
  if ((message as { t?: unknown }).t === "batch") {
    for (const one of (message as Batch<T>).messages) handle(one);
  } else {
    handle(message as T);
  }
}
