import { SdkError, SdkErrors } from "../errors.js";
import type { Type } from "../types/type.js";

/** A piece of persisted state a function declares: name, type and optional expiry. */
export interface ValueSpec<T> {
  readonly name: string;
  readonly type: Type<T>;
  /** Expire this long after the last invocation that carried it (StateFun AFTER_INVOKE). */
  readonly expireAfterCall?: number;
  /** Expire this long after the last write (StateFun AFTER_WRITE). */
  readonly expireAfterWrite?: number;
}

/**
 * StateFun's SDKs accept lowercase names; we also allow digits after the first character
 * (the JS SDK did not, Python did).
 */
const STATE_NAME = /^[_a-z][_a-z0-9]*$/;

/** Declares a state value; throws SB_SDK_INVALID_DEFINITION for a bad name or TTL. */
export function valueSpec<T>(
  name: string,
  type: Type<T>,
  expiry: { expireAfterCall?: number; expireAfterWrite?: number } = {},
): ValueSpec<T> {
  if (!STATE_NAME.test(name)) {
    throw new SdkError(
      SdkErrors.INVALID_DEFINITION,
      `state name "${name}" must match ${STATE_NAME} (lowercase, digits, underscores)`,
    );
  }
  const { expireAfterCall, expireAfterWrite } = expiry;
  if (expireAfterCall !== undefined && expireAfterWrite !== undefined) {
    throw new SdkError(
      SdkErrors.INVALID_DEFINITION,
      `state "${name}": expireAfterCall and expireAfterWrite cannot both be set`,
    );
  }
  for (const ms of [expireAfterCall, expireAfterWrite]) {
    if (ms !== undefined && !(Number.isInteger(ms) && ms > 0)) {
      throw new SdkError(
        SdkErrors.INVALID_DEFINITION,
        `state "${name}": an expiry is a positive number of milliseconds, not ${ms}`,
      );
    }
  }
  return {
    name,
    type,
    ...(expireAfterCall !== undefined ? { expireAfterCall } : {}),
    ...(expireAfterWrite !== undefined ? { expireAfterWrite } : {}),
  };
}
