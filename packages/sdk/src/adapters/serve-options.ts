import { SdkError, SdkErrors } from "../errors.js";
import { PROTOCOL_CONTENT_TYPE } from "../protocol/index.js";

export interface ServeOptions {
  /** Largest accepted request body; default 32 MiB (StateFun's payload_max_bytes). */
  readonly maxBodyBytes?: number;
  /** Where failures are reported; default console.error. Bodies and state are never passed. */
  readonly onError?: (error: SdkError) => void;
}

export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

export function reportError(options: ServeOptions, error: SdkError): void {
  if (options.onError) options.onError(error);
  else if (error.status >= 500) console.error(`[switchboard-sdk] ${error.code}: ${error.message}`);
}

/** Any failure as an SdkError; unknown failures become FUNCTION_FAILED. */
export function asSdkError(error: unknown): SdkError {
  if (error instanceof SdkError) return error;
  return new SdkError(SdkErrors.FUNCTION_FAILED, error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}

/** 4xx bodies say what was wrong; 5xx bodies are empty, so nothing internal leaks. */
export function errorBody(error: SdkError): string {
  return error.status >= 500 ? "" : `${error.code}: ${error.message}`;
}

/** StateFun sends application/octet-stream; parameters and case are tolerated. */
export function checkRequest(method: string | undefined, contentType: string | null | undefined): void {
  if (method === "POST" && contentType === PROTOCOL_CONTENT_TYPE) return; // what every runtime sends
  if (method !== "POST") throw new SdkError(SdkErrors.METHOD_NOT_ALLOWED, `use POST, not ${method}`);
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  if (type && type !== PROTOCOL_CONTENT_TYPE) {
    throw new SdkError(
      SdkErrors.UNSUPPORTED_CONTENT_TYPE,
      `expected Content-Type ${PROTOCOL_CONTENT_TYPE}, got ${contentType}`,
    );
  }
}

export function tooLarge(limit: number): SdkError {
  return new SdkError(SdkErrors.BODY_TOO_LARGE, `the request body is larger than ${limit} bytes`);
}
