import { type ChildProcess, spawn } from "node:child_process";
import { reapOnInterrupt } from "./child-reaper.js";

const TSX = ["--conditions=development", "--import", "tsx"];

/**
 * Starts a bench/support script that prints its port on its first stdout line. TypeScript runs
 * through tsx; a plain .mjs runs on node alone, so no loader sits in what it measures.
 */
export function startServerProcess(
  script: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ port: number; child: ChildProcess }> {
  const loader = script.endsWith(".mjs") ? [] : TSX;
  const child = reapOnInterrupt(
    spawn(process.execPath, [...loader, new URL(script, import.meta.url).pathname, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
      env,
    }),
  );
  return new Promise((resolve, reject) => {
    child.stdout?.once("data", (chunk: Buffer) => resolve({ port: Number(chunk.toString().trim()), child }));
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

/** Runs a bench/support script to completion and parses the JSON it prints. */
export function runJsonProcess<T>(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  const child = reapOnInterrupt(
    spawn(process.execPath, [...TSX, new URL(script, import.meta.url).pathname, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
      env,
    }),
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => {
      if (code === 0) resolve(JSON.parse(output) as T);
      else reject(new Error(`${script} exited with ${code}`));
    });
  });
}

export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

export interface LoadResult {
  ok: number;
  rejected: number;
  errors: number;
  elapsedMs: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Epoch ms the load began (when it was asked to start at a given time). */
  startedAt?: number;
}
