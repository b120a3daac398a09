import * as workerThreads from "node:worker_threads";

// Node 21+ can tell which buffers it refuses to move (Buffer's shared pool); Node 20 cannot,
// and silently copies them instead, so there the answer "movable" is safe too.
const isMarkedAsUntransferable = (workerThreads as { isMarkedAsUntransferable?: (value: object) => boolean })
  .isMarkedAsUntransferable;

/**
 * The transfer list that moves the buffer behind `bytes` to the other thread instead of
 * copying it, or undefined when moving is not safe: the view must cover its whole buffer
 * (moving detaches every other view on it), and the buffer must be a plain ArrayBuffer, not
 * empty (empty buffers are often shared constants, and a second move of one throws
 * DataCloneError since Node 21) and not marked untransferable.
 */
export function movableBuffer(bytes: Uint8Array): ArrayBuffer[] | undefined {
  const { buffer } = bytes;
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) return undefined;
  if (bytes.byteOffset !== 0 || bytes.byteLength !== buffer.byteLength) return undefined;
  if (isMarkedAsUntransferable?.(buffer)) return undefined;
  return [buffer];
}
