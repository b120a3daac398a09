/** How old a read may get before a read-out starts the next one. */
export const REREAD_AFTER_MS = 1000;

/**
 * A figure read from a shared store (a table count, the cluster's members and lag), read at
 * most once a second whoever asks and however often: `latest` answers at once with the last
 * read and starts the next one in the background when it is stale (scrapes never wait for the
 * store); `fresh` waits only when the last read is older than that; callers arriving during a
 * read share it. A failed read keeps the last value; the next try is a second away.
 */
export class ThrottledRead<T> {
  private last: T;
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<T> | undefined;

  constructor(
    private readonly read: () => Promise<T>,
    initial: T,
    private readonly options: {
      readonly clock?: () => number;
      /** False: keep the last value rather than read (a store shutting down is no reason to report zero). */
      readonly canRead?: () => boolean;
    } = {},
  ) {
    this.last = initial;
  }

  /** The last value, at once; starts a read in the background when it is stale. */
  latest(): T {
    void this.reread();
    return this.last;
  }

  /** A value at most a second old: waits for a read (the one running, if any) when it is older. */
  fresh(): Promise<T> {
    return this.reread();
  }

  private reread(): Promise<T> {
    if (this.reading) return this.reading;
    const now = (this.options.clock ?? Date.now)();
    if (now - this.readAt < REREAD_AFTER_MS || this.options.canRead?.() === false) {
      return Promise.resolve(this.last);
    }
    this.readAt = now;
    this.reading = this.read()
      .then(
        (value) => {
          this.last = value;
          return value;
        },
        () => this.last,
      )
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }
}
