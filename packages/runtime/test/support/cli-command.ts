import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
const CLI = new URL("../../src/cli/main.ts", import.meta.url).pathname;

/** How a `switchboard` command ended. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `switchboard <args>` to completion (at most 60 s). SWITCHBOARD_STORE is not passed on
 * from this process, so a command sees a store only when the test gives one.
 */
export async function switchboard(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const { SWITCHBOARD_STORE: _ignored, ...inherited } = process.env;
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      ["--conditions=development", "--import", "tsx", CLI, ...args],
      { env: { ...inherited, ...env }, timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** The command failed with exit code 1 and a message matching `message`, without a stack trace. */
export function assertCleanFailure(result: CliResult, message: RegExp): void {
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, message);
  assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace");
}
