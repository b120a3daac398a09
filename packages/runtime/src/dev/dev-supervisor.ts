import { relative, resolve } from "node:path";
import { Runtime, type RuntimeOptions } from "../runtime.js";
import { FileWatcher } from "./file-watcher.js";
import type { ReloadReport } from "./reload-runtime.js";
import { isRelevant, watchSet } from "./watch-set.js";

export interface DevOptions extends RuntimeOptions {
  /** Quiet time after the last file change before reloading; default 100 ms. */
  readonly debounceMs?: number;
  /** Where the one-line reload reports go; default console.log. */
  readonly print?: (line: string) => void;
  /** Called each time a runtime has started (at once, or after a failed first start was fixed). */
  readonly onStarted?: (runtime: Runtime, watching: readonly string[]) => void;
}

/**
 * `switchboard dev`: one Runtime for the life of the process, reloaded in place when the
 * module YAML or a hosted module's files change. Reloads run one at a time; a change that
 * arrives during a reload is picked up by the next one. When the first start fails (bad
 * YAML, a module that does not load) the error is printed and the next change retries it.
 */
export class DevSupervisor {
  /** Every reload's outcome, oldest first (tests and tooling read it). */
  readonly reports: ReloadReport[] = [];
  private readonly waiters: Array<() => void> = [];
  private queue: Promise<void> = Promise.resolve();
  private readonly print: (line: string) => void;
  private readonly dataDir: string;
  private readonly watcher: FileWatcher;
  private current: Runtime | undefined;

  private constructor(private readonly options: DevOptions) {
    this.print = options.print ?? ((line) => console.log(line));
    this.dataDir = resolve(options.dataDir ?? ".switchboard");
    this.watcher = new FileWatcher({
      debounceMs: options.debounceMs ?? 100,
      relevant: (file) => isRelevant(file, this.dataDir),
      onChange: (files) => this.enqueue(files),
      onError: (dir, error) => this.print(`[dev] stopped watching ${dir}: ${error.message}`),
    });
  }

  static async start(options: DevOptions): Promise<DevSupervisor> {
    const supervisor = new DevSupervisor(options);
    await supervisor.tryStart();
    return supervisor;
  }

  /** The running runtime; throws while a failed first start waits for a fix. */
  get runtime(): Runtime {
    if (!this.current)
      throw new Error("the runtime is not running: its first start failed (see the error printed)");
    return this.current;
  }

  get running(): boolean {
    return this.current !== undefined;
  }

  /** The directories being watched right now. */
  get watching(): string[] {
    return this.watcher.dirs;
  }

  /** Resolves once `count` reloads have finished in total (tests). */
  async reloaded(count: number, timeoutMs = 60_000): Promise<ReloadReport> {
    const deadline = Date.now() + timeoutMs;
    while (this.reports.length < count) {
      if (Date.now() > deadline) throw new Error(`no reload #${count} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.reports[count - 1] as ReloadReport;
  }

  /** Reloads now, as if `files` had changed. */
  reload(files: readonly string[] = []): Promise<void> {
    return this.enqueue(files);
  }

  async stop(): Promise<void> {
    this.watcher.close();
    await this.queue;
    await this.current?.stop();
  }

  private enqueue(files: readonly string[]): Promise<void> {
    this.queue = this.queue.then(() => this.reloadOnce(files));
    return this.queue;
  }

  private async tryStart(): Promise<boolean> {
    const started = performance.now();
    try {
      // Reloads replace pools; on the worker path that closes listening sockets of a shared
      // port, which resets queued connections (RuntimeOptions.webInWorkers), so dev keeps the
      // main thread listening. An embedder may still say true.
      this.current = await Runtime.start({ webInWorkers: false, ...this.options });
    } catch (error) {
      this.print(
        `[dev] start failed after ${Math.round(performance.now() - started)} ms; waiting for a change:\n${indent((error as Error).message)}`,
      );
      this.rewatch();
      return false;
    }
    this.rewatch();
    this.options.onStarted?.(this.current, this.watching);
    return true;
  }

  private async reloadOnce(files: readonly string[]): Promise<void> {
    if (!this.current) {
      const started = performance.now();
      const ok = await this.tryStart();
      const ms = Math.round(performance.now() - started);
      if (ok) this.print(`[dev] started in ${ms} ms`);
      this.reports.push(ok ? { ok, changes: ["started"], ms } : { ok, error: "start failed", ms });
      for (const wake of this.waiters.splice(0)) wake();
      return;
    }
    let report: ReloadReport;
    try {
      report = await this.current.reload(files);
    } catch (error) {
      report = { ok: false, error: (error as Error).message, ms: 0 };
    }
    const what =
      files.length > 0 ? `${files.map((file) => relative(process.cwd(), file) || file).join(", ")}: ` : "";
    if (report.ok) {
      this.print(
        `[dev] ${what}reloaded in ${report.ms} ms${report.changes.length > 0 ? ` (${report.changes.join("; ")})` : " (nothing to change)"}`,
      );
    } else {
      this.print(
        `[dev] ${what}reload failed after ${report.ms} ms; still serving the previous version:\n${indent(report.error)}`,
      );
    }
    this.rewatch();
    this.reports.push(report);
    for (const wake of this.waiters.splice(0)) wake();
  }

  private rewatch(): void {
    const modules = this.current?.host.modules.map((module) => module.file) ?? [];
    this.watcher.watch(watchSet(this.options.modules, modules, this.dataDir));
  }
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}
