import { CacheErrors } from "../errors/cache-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";

/**
 * Bytes that live on the host side and reach the cache without passing through a function:
 * the seam for the function host's `Data` handles (an upstream response body, say). The host
 * implements it over its own buffers or streams.
 */
export interface ByteSource {
  /** The size when known up front, so an oversize body is refused before it is read. */
  readonly byteLength?: number;
  /**
   * The whole body. A source may stop early and throw once more than `maxBytes` arrive; the
   * cache checks the size of what it gets either way.
   */
  readBytes(maxBytes: number): Promise<Uint8Array>;
}

/** What the cache stores: bytes, a string (stored as UTF-8), or a host-side byte source. */
export type CacheValue = Uint8Array | string | ByteSource;

/** The bytes of `value`, refusing anything above `maxBytes` with SB_CACHE_VALUE_TOO_LARGE. */
export async function valueBytes(value: CacheValue, maxBytes: number): Promise<Uint8Array> {
  let bytes: Uint8Array;
  if (typeof value === "string") {
    bytes = Buffer.from(value, "utf8");
  } else if (value instanceof Uint8Array) {
    bytes = value;
  } else if (isByteSource(value)) {
    if (value.byteLength !== undefined) checkSize(value.byteLength, maxBytes);
    bytes = await value.readBytes(maxBytes);
    if (!(bytes instanceof Uint8Array)) throw badValue("a byte source produced something other than bytes");
  } else {
    throw badValue(`a cache value must be a Uint8Array, a string or a byte source, not ${describe(value)}`);
  }
  checkSize(bytes.byteLength, maxBytes);
  return bytes;
}

export function isByteSource(value: unknown): value is ByteSource {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { readBytes?: unknown }).readBytes === "function"
  );
}

function checkSize(bytes: number, maxBytes: number): void {
  if (bytes > maxBytes) {
    throw new SwitchboardError(
      CacheErrors.VALUE_TOO_LARGE,
      `a cache value of ${bytes} bytes is above the limit of ${maxBytes} bytes (maxValueBytes)`,
      { bytes, maxValueBytes: maxBytes },
    );
  }
}

function badValue(message: string): SwitchboardError {
  return new SwitchboardError(CacheErrors.BAD_VALUE, message);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? `an object (${value.constructor?.name ?? "Object"})` : typeof value;
}
