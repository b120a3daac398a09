/**
 * Closed-loop HTTP load for the benchmarks: POSTs to <baseUrl>/k<n><pathSuffix> with n uniform
 * among `keys`, `concurrency` connections, for `durationMs`. Runs wrk (one thread, as the Restate
 * figures in shared/reference were measured) when it is installed, else our own Node load
 * generator; BENCH_LOADGEN=node|wrk picks one. wrk spends a few % of a core where the Node
 * generator spends a third of one, which on two cores is CPU taken from what is measured.
 */

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { reapOnInterrupt } from "./child-reaper.js";
import { type LoadResult, runJsonProcess } from "./processes.js";

const WRK = "/usr/bin/wrk";

export type LoadGenerator = "wrk" | "node";

export function loadGenerator(): LoadGenerator {
  const chosen = process.env.BENCH_LOADGEN;
  if (chosen === "wrk" || chosen === "node") return chosen;
  return existsSync(WRK) ? "wrk" : "node";
}

export function runLoad(
  baseUrl: string,
  keys: number,
  concurrency: number,
  durationMs: number,
  contentType = "text/plain",
  pathSuffix = "",
): Promise<LoadResult> {
  return runLoadAt(undefined, baseUrl, keys, concurrency, durationMs, contentType, pathSuffix);
}

/**
 * runLoad starting at `startAt` (epoch ms; undefined: at once), so several loads started
 * together begin together, whatever each generator's start-up took.
 */
export async function runLoadAt(
  startAt: number | undefined,
  baseUrl: string,
  keys: number,
  concurrency: number,
  durationMs: number,
  contentType = "text/plain",
  pathSuffix = "",
): Promise<LoadResult> {
  const args = [baseUrl, String(keys), String(concurrency), String(durationMs), contentType, pathSuffix];
  if (loadGenerator() === "node") {
    const env = startAt === undefined ? process.env : { ...process.env, BENCH_START_AT: String(startAt) };
    return runJsonProcess<LoadResult>("load-generator.ts", args, env);
  }
  // wrk starts in a few ms: spawn it when the load is due.
  if (startAt !== undefined && startAt > Date.now()) {
    await new Promise((resolve) => setTimeout(resolve, startAt - Date.now()));
  }
  const startedAt = Date.now();
  const result = await runWrk(baseUrl, keys, concurrency, durationMs, contentType, pathSuffix);
  return { ...result, startedAt };
}

function runWrk(
  baseUrl: string,
  keys: number,
  concurrency: number,
  durationMs: number,
  contentType: string,
  pathSuffix: string,
): Promise<LoadResult> {
  const url = new URL(baseUrl);
  const script = new URL("wrk-load.lua", import.meta.url).pathname;
  const seconds = Math.max(1, Math.round(durationMs / 1000));
  const child = reapOnInterrupt(
    spawn(WRK, ["-t1", `-c${concurrency}`, `-d${seconds}s`, "--timeout", "30s", "-s", script, url.origin], {
      stdio: ["ignore", "pipe", "inherit"],
      env: {
        ...process.env,
        BENCH_BASE_PATH: `${url.pathname.replace(/\/$/, "")}/`,
        BENCH_KEYS: String(keys),
        BENCH_CONTENT_TYPE: contentType,
        BENCH_PATH_SUFFIX: pathSuffix,
      },
    }),
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => {
      const line = output.split("\n").find((l) => l.startsWith("{"));
      if (code !== 0 || !line) {
        reject(new Error(`wrk exited with ${code}: ${output}`));
        return;
      }
      const s = JSON.parse(line) as {
        requests: number;
        failed: number;
        status: number;
        elapsedUs: number;
        p50Us: number;
        p99Us: number;
      };
      const ok = s.requests - s.status;
      const elapsedMs = s.elapsedUs / 1000;
      resolve({
        ok,
        rejected: 0,
        errors: s.failed,
        elapsedMs,
        perSecond: (ok / elapsedMs) * 1000,
        p50: s.p50Us / 1000,
        p99: s.p99Us / 1000,
      });
    });
  });
}
