import type { SerializedError } from "./worker/messages.js";

/**
 * An error with `redact` applied to every string it carries, its causes included: a
 * function decides what goes into an error's name or code as freely as into its message,
 * and any of them may quote a secret the function reached through an upstream.
 */
export function scrubError(error: SerializedError, redact: (text: string) => string): SerializedError {
  return {
    name: redact(error.name),
    message: redact(error.message),
    ...(error.stack !== undefined ? { stack: redact(error.stack) } : {}),
    ...(error.code !== undefined ? { code: redact(error.code) } : {}),
    ...(error.status !== undefined ? { status: error.status } : {}),
    ...(error.cause !== undefined ? { cause: scrubError(error.cause, redact) } : {}),
  };
}
