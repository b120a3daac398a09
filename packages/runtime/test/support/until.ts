import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";

export interface UntilOptions {
  /** How long to keep polling before the test fails; 10 s unless given. */
  readonly timeoutMs?: number;
  /** The pause between probes; 10 ms unless given. Longer for probes that query a database. */
  readonly intervalMs?: number;
}

/** What a probe answers while the awaited thing has not happened yet. */
type NotYet = undefined | false;

/**
 * Polls `probe` every `intervalMs` until it answers something other than undefined or false,
 * and returns that answer; fails the test with "timed out after … ms waiting for `what`" when
 * `timeoutMs` has passed first. A probe that throws ends the wait with its error.
 */
export async function until<T>(
  what: string,
  probe: () => T | NotYet | Promise<T | NotYet>,
  options: UntilOptions = {},
): Promise<Exclude<T, NotYet>> {
  const { timeoutMs = 10_000, intervalMs = 10 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await probe();
    if (answer !== undefined && answer !== false) return answer as Exclude<T, NotYet>;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
