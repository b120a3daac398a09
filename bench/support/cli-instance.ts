/**
 * `switchboard run ...` as a child process, started the way packages/runtime/test/support/
 * cli-child.ts starts it (node with the tsx loader on the CLI's source, so the child's pid is
 * the runtime's own and its CPU can be read from /proc). Stopped by pid when the benchmark is
 * interrupted (child-reaper). Logs at "warn" unless $BENCH_SWITCHBOARD_LOG_LEVEL says otherwise.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { reapOnInterrupt } from "./child-reaper.js";

const CLI = new URL("../../packages/runtime/src/cli/main.ts", import.meta.url).pathname;
/** Enough of the output to say why a start failed; the rest is dropped. */
const OUTPUT_KEPT = 16_384;

export interface CliInstance {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last OUTPUT_KEPT characters of stdout and stderr together. */
  output(): string;
  /** Resolves once the CLI says it is running; fails early when it exits. */
  running(timeoutMs?: number): Promise<void>;
  /** SIGTERM (graceful: hands its partitions over), SIGKILL after `graceMs`; resolves on exit. */
  stop(graceMs?: number): Promise<void>;
}

/** `nodeArgs` go to node before the CLI (e.g. --cpu-prof). */
export function startCliInstance(
  name: string,
  args: readonly string[],
  nodeArgs: readonly string[] = [],
): CliInstance {
  const child = reapOnInterrupt(
    spawn(process.execPath, ["--conditions=development", "--import", "tsx", ...nodeArgs, CLI, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, SWITCHBOARD_LOG_LEVEL: process.env.BENCH_SWITCHBOARD_LOG_LEVEL ?? "warn" },
    }),
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    name,
    pid: child.pid as number,
    child,
    output: () => output,
    async running(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!output.includes("switchboard is running")) {
        if (gone() || Date.now() > deadline) {
          throw new Error(`${name} did not start (exit ${child.exitCode ?? child.signalCode}):\n${output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop(graceMs = 15_000) {
      if (gone()) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
