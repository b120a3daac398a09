import { randomUUID } from "node:crypto";
import type { Logger } from "../dispatch/logger.js";
import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";

/** What a failed web request is answered with: a status and a JSON body. */
export interface FailureAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * The answer to a web request that failed before its response started, logged as it should
 * be: a function's failure (or the host's own) is a 500 with an error id only, and the log has
 * the error under that id; a catalogued error answers its own status and message. Decided in
 * the main thread on both paths, where secrets can be scrubbed from what is logged.
 */
export function failureAnswer(
  error: unknown,
  invocation: number,
  path: string | undefined,
  logger: Logger,
): FailureAnswer {
  if (error instanceof SwitchboardError && error.code === HostErrors.FUNCTION_FAILED.code) {
    const errorId = randomUUID();
    logger.error(
      { errorId, invocation, path: path?.split("?")[0], err: error.cause ?? error.message },
      "web function failed",
    );
    return {
      status: 500,
      body: {
        error: {
          code: error.code,
          message: `the function failed; the host log has the details under error id ${errorId}`,
          errorId,
        },
      },
    };
  }
  if (!(error instanceof SwitchboardError)) {
    const errorId = randomUUID();
    logger.error({ errorId, invocation, err: describe(error) }, "web request failed in the host");
    return {
      status: 500,
      body: { error: { code: "SB_INTERNAL", message: `internal error ${errorId}`, errorId } },
    };
  }
  if (error.status >= 500)
    logger.warn({ invocation, code: error.code, err: error.message }, "web function failed");
  return { status: error.status, body: { error: { code: error.code, message: error.message } } };
}

/** A failure after the head went out cannot be answered: the response is cut and this logged. */
export function logFailedAfterStart(logger: Logger, invocation: number, error: unknown): void {
  logger.warn({ invocation, err: describe(error) }, "web function failed after its response started");
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
