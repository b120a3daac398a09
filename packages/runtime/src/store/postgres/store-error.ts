import { StoreErrors } from "../../errors/store-errors.js";
import { SwitchboardError } from "../../errors/switchboard-error.js";

// SQLSTATE codes and Node socket errors that tell an operator what to fix.
const AUTH_FAILURES = new Set(["28P01", "28000"]);
const NO_DATABASE = "3D000";
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/**
 * Turns what pg throws into one of the catalog's store errors. `where` names the store for
 * the message; it must already be redacted (see store-url.ts), because messages reach logs.
 * SwitchboardErrors (a fencing failure inside a transaction, say) pass through unchanged.
 */
export function toStoreError(error: unknown, where = "the PostgreSQL store"): SwitchboardError {
  if (error instanceof SwitchboardError) return error;
  const code = errorCode(error);
  const reason = error instanceof Error ? error.message : String(error);
  if (code !== undefined && AUTH_FAILURES.has(code)) {
    return new SwitchboardError(
      StoreErrors.AUTH_FAILED,
      `${where} refused the user or password (${code}); check the user and password in the store URL`,
      { sqlstate: code },
    );
  }
  if (code === NO_DATABASE) {
    return new SwitchboardError(
      StoreErrors.NO_DATABASE,
      `${where}: the database does not exist; create it first (createdb NAME)`,
      { sqlstate: code },
    );
  }
  if (
    (code !== undefined && UNREACHABLE.has(code)) ||
    /timeout expired|Connection terminated due to connection timeout/i.test(reason)
  ) {
    return new SwitchboardError(
      StoreErrors.UNREACHABLE,
      `${where} cannot be reached (${code ?? "connect timeout"})`,
      {
        reason: code ?? "timeout",
      },
    );
  }
  return new SwitchboardError(
    StoreErrors.FAILED,
    `${where} failed: ${reason}`,
    code ? { sqlstate: code } : {},
    {
      cause: error,
    },
  );
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  // A host with several addresses fails with an AggregateError whose parts carry the codes.
  const parts = (error as { errors?: unknown }).errors;
  if (Array.isArray(parts)) return parts.map(errorCode).find((part) => part !== undefined);
  return undefined;
}
