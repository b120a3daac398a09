import { type FSWatcher, watch } from "node:fs";
import { join, sep } from "node:path";

export interface FileWatcherOptions {
  /** Quiet time after the last change before `onChange` runs (editors write in bursts). */
  readonly debounceMs: number;
  /** Which changed paths matter. */
  readonly relevant: (file: string) => boolean;
  readonly onChange: (files: string[]) => void;
  readonly onError?: (dir: string, error: Error) => void;
}

/**
 * Watches a set of directories (each on its own, not recursively: recursive fs.watch on
 * Linux only works in recent Node 20 releases, and would walk node_modules too) and reports the changed files once a burst of
 * changes has settled. Watching directories, not files, survives editors that save by
 * writing a new file and renaming it over the old one.
 */
export class FileWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: FileWatcherOptions) {}

  /** Replaces the watched set: new directories are added, ones no longer wanted closed. */
  watch(dirs: Iterable<string>): void {
    if (this.closed) return;
    const wanted = new Set(dirs);
    for (const [dir, watcher] of this.watchers) {
      if (wanted.has(dir)) continue;
      watcher.close();
      this.watchers.delete(dir);
    }
    for (const dir of wanted) {
      if (this.watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false }, (_event, name) => {
          this.changed(name ? join(dir, name.toString()) : dir);
        });
        watcher.on("error", (error) => {
          watcher.close();
          this.watchers.delete(dir);
          this.options.onError?.(dir, error);
        });
        this.watchers.set(dir, watcher);
      } catch (error) {
        this.options.onError?.(dir, error as Error);
      }
    }
  }

  get dirs(): string[] {
    return [...this.watchers.keys()];
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  private changed(file: string): void {
    if (this.closed || !this.options.relevant(file)) return;
    this.pending.add(file);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const files = [...this.pending];
      this.pending.clear();
      this.options.onChange(files);
    }, this.options.debounceMs);
  }
}

/** True when `file` is `dir` itself or anywhere inside it. */
export function isInside(file: string, dir: string): boolean {
  return file === dir || file.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}
