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
}

/**
 * `switchboard dev`: one Runtime for the life of the process, reloaded in place when the
 * module YAML or a hosted module's files change. Reloads run one at a time; a change that
 * arrives during a reload is picked up by the next one.
 */
export class DevSupervisor {
  /** Every reload's outcome, oldest first (tests and tooling read it). */
  readonly reports: ReloadReport[] = [];
  private readonly waiters: Array<() => void> = [];
  private queue: Promise<void> = Promise.resolve();
  private readonly print: (line: string) => void;
  private readonly dataDir: string;
  private readonly watcher: FileWatcher;

  private constructor(
    readonly runtime: Runtime,
    private readonly options: DevOptions,
  ) {
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
    const runtime = await Runtime.start(options);
    const supervisor = new DevSupervisor(runtime, options);
    supervisor.rewatch();
    return supervisor;
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
    await this.runtime.stop();
  }

  private enqueue(files: readonly string[]): Promise<void> {
    this.queue = this.queue.then(() => this.reloadOnce(files));
    return this.queue;
  }

  private async reloadOnce(files: readonly string[]): Promise<void> {
    let report: ReloadReport;
    try {
      report = await this.runtime.reload(files);
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
    const modules = this.runtime.host.modules.map((module) => module.file);
    this.watcher.watch(watchSet(this.options.modules, modules, this.dataDir));
  }
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}
