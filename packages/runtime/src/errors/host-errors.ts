import type { ErrorDefinition } from "./switchboard-error.js";

/** Errors of the function host: modules, workers, web functions, host calls. */
export const HostErrors = {
  /** The module file cannot be loaded, or it does not provide what module YAML says. */
  MODULE_LOAD_FAILED: { code: "SB_HOST_MODULE_LOAD_FAILED", status: 500 },
  /** A required env variable or secret is missing from the process environment. */
  MISSING_VARIABLE: { code: "SB_HOST_MISSING_VARIABLE", status: 500 },
  /** Two modules (or a module and an endpoint) serve the same typename or web function. */
  DUPLICATE_BINDING: { code: "SB_HOST_DUPLICATE_BINDING", status: 500 },
  /** `/functions/<name>` names no web function. */
  UNKNOWN_WEB_FUNCTION: { code: "SB_HOST_UNKNOWN_WEB_FUNCTION", status: 404 },
  /** The path is not `/functions/<name>[/...]`. */
  BAD_PATH: { code: "SB_HOST_BAD_PATH", status: 404 },
  /** The request body did not parse or validate as the function's input; the handler did not run. */
  BAD_INPUT: { code: "SB_HOST_BAD_INPUT", status: 400 },
  /** The request body is above the web listener's `maxBodyBytes`. */
  BODY_TOO_LARGE: { code: "SB_HOST_BODY_TOO_LARGE", status: 413 },
  /** The function threw; the body carries only an error id, the log has the error. */
  FUNCTION_FAILED: { code: "SB_HOST_FUNCTION_FAILED", status: 500 },
  /** The invocation ran past its function's `limits.timeout` (the module's, or its override's). */
  TIMEOUT: { code: "SB_HOST_TIMEOUT", status: 504 },
  /** The worker ran out of its `limits.memory`; it was replaced. */
  OUT_OF_MEMORY: { code: "SB_HOST_OUT_OF_MEMORY", status: 500 },
  /** The worker running the invocation died or was replaced (another invocation hung it). */
  WORKER_LOST: { code: "SB_HOST_WORKER_LOST", status: 503 },
  /** The host is stopping. */
  STOPPING: { code: "SB_HOST_STOPPING", status: 503 },
  /** The web caller disconnected; its invocation was cancelled and its outbound calls aborted. */
  CLIENT_GONE: { code: "SB_HOST_CLIENT_GONE", status: 499 },
  /** The outbound policy refused the call; the message names the rule. */
  OUTBOUND_REFUSED: { code: "SB_HOST_OUTBOUND_REFUSED", status: 403 },
  /** An outbound URL that is not absolute http(s), or a path without an upstream. */
  OUTBOUND_BAD_URL: { code: "SB_HOST_OUTBOUND_BAD_URL", status: 400 },
  /** `upstream` names no upstream of the module. */
  UNKNOWN_UPSTREAM: { code: "SB_HOST_UNKNOWN_UPSTREAM", status: 400 },
  /** A Data id that is unknown, already released, or belongs to another invocation. */
  UNKNOWN_DATA: { code: "SB_HOST_UNKNOWN_DATA", status: 500 },
  /** A streamed Data was already consumed (relayed or read) and cannot be used twice. */
  DATA_CONSUMED: { code: "SB_HOST_DATA_CONSUMED", status: 500 },
  /** Reading a Data into the function would pass its `limits.dataBytes` (module's or override's). */
  DATA_TOO_LARGE: { code: "SB_HOST_DATA_TOO_LARGE", status: 500 },
  /** A worker asked for a host call that does not exist. */
  UNKNOWN_HOST_CALL: { code: "SB_HOST_UNKNOWN_HOST_CALL", status: 500 },
  /** A message between the host and a worker holds a value threads cannot share (a function, a symbol). */
  UNSENDABLE: { code: "SB_HOST_UNSENDABLE", status: 500 },
} as const satisfies Record<string, ErrorDefinition>;
