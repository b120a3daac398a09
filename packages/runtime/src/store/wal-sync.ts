import { closeSync, fdatasync, fdatasyncSync, openSync } from "node:fs";

/**
 * Makes committed WAL frames durable without blocking the event loop. SQLite's
 * `synchronous=FULL` fsyncs the write-ahead log inside COMMIT, on the thread that commits,
 * which is the runtime's only JavaScript thread. With `synchronous=NORMAL` SQLite writes the
 * same frames but leaves them in the page cache; fsyncing the WAL file afterwards makes
 * exactly those commits durable, the same guarantee FULL gives. Doing that fsync on libuv's
 * thread pool lets the next group commit while the previous one reaches the disk.
 *
 * SQLite keeps the WAL file (same inode) for as long as the connection is open: it rewrites
 * it from the start after a checkpoint but only deletes it when the last connection closes.
 */
export class WalSync {
  private readonly fd: number;
  private inFlight = false;
  private closeRequested = false;
  private closed = false;

  /** Opens the WAL of `databaseFile` and makes whatever it already holds durable. */
  constructor(databaseFile: string) {
    // "a" creates the file if SQLite has not yet; SQLite then opens the same inode.
    this.fd = openSync(`${databaseFile}-wal`, "a");
    fdatasyncSync(this.fd);
  }

  /** Calls `done` once every frame written before this call is on disk. */
  sync(done: (error: Error | null) => void): void {
    if (this.closed) {
      done(new Error("the store is closed"));
      return;
    }
    this.inFlight = true;
    fdatasync(this.fd, (error) => {
      this.inFlight = false;
      if (this.closeRequested) this.closeFile();
      done(error);
    });
  }

  /** The same, blocking; used while closing. */
  syncNow(): void {
    if (!this.closed) fdatasyncSync(this.fd);
  }

  /** Closes the file, after the fsync in flight (if any) has finished with it. */
  close(): void {
    this.closeRequested = true;
    if (!this.inFlight) this.closeFile();
  }

  private closeFile(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
