import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";

const childScript = new URL("./ownership-child.ts", import.meta.url).pathname;

export interface ChildLine {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** ownership-child.ts in its own process, with its real pid, its output lines and signals. */
export class ChildInstance {
  readonly lines: ChildLine[] = [];
  private readonly child: ChildProcess;

  constructor(url: string, instanceId: string, leaseMs: number, heartbeatMs: number) {
    this.child = spawn(
      process.execPath,
      [
        "--conditions=development",
        "--import",
        "tsx",
        childScript,
        url,
        instanceId,
        String(leaseMs),
        String(heartbeatMs),
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      this.lines.push(JSON.parse(line) as ChildLine);
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** The first line from `from` on that `match` accepts; fails after `timeoutMs`. */
  async waitFor(match: (line: ChildLine) => boolean, timeoutMs = 20_000, from = 0): Promise<ChildLine> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.lines.slice(from).find(match);
      if (found) return found;
      if (this.child.exitCode !== null) throw new Error(`child exited with ${this.child.exitCode}`);
      await sleep(20);
    }
    throw new Error(`no matching line from the child within ${timeoutMs} ms: ${JSON.stringify(this.lines)}`);
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  /** SIGKILL; resolves once the process is gone. Safe to call twice. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, "exit");
    this.child.kill("SIGCONT");
    this.child.kill("SIGKILL");
    await exited;
  }
}
