import { CacheErrors } from "../errors/cache-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";

/**
 * Checks a decoded JSON value and returns it typed, throwing when it does not fit: a function
 * `(value) => T`, or anything with `parse(value): T` (a zod schema, for instance).
 */
export type JsonValidator<T> = ((value: unknown) => T) | { parse(value: unknown): T };

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export function decodeText(bytes: Uint8Array, key: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch (error) {
    throw new SwitchboardError(
      CacheErrors.DECODE_FAILED,
      `the cached value of "${key}" is not UTF-8 text`,
      { key },
      { cause: error },
    );
  }
}

export function decodeJson<T>(bytes: Uint8Array, key: string, validator?: JsonValidator<T>): T {
  const text = decodeText(bytes, key);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SwitchboardError(
      CacheErrors.DECODE_FAILED,
      `the cached value of "${key}" is not JSON`,
      { key },
      { cause: error },
    );
  }
  if (!validator) return parsed as T;
  try {
    return typeof validator === "function" ? validator(parsed) : validator.parse(parsed);
  } catch (error) {
    throw new SwitchboardError(
      CacheErrors.DECODE_FAILED,
      `the cached value of "${key}" does not pass validation: ${error instanceof Error ? error.message : String(error)}`,
      { key },
      { cause: error },
    );
  }
}

export function encodeJson(value: unknown, key: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new SwitchboardError(
      CacheErrors.BAD_VALUE,
      `the value for "${key}" cannot be written as JSON: ${error instanceof Error ? error.message : String(error)}`,
      { key },
      { cause: error },
    );
  }
  if (text === undefined) {
    throw new SwitchboardError(
      CacheErrors.BAD_VALUE,
      `the value for "${key}" has no JSON form (${typeof value})`,
      {
        key,
      },
    );
  }
  return text;
}
