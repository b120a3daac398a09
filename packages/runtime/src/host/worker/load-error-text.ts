import { fileURLToPath } from "node:url";
import type { SerializedError } from "./messages.js";
import { moduleLoadHint } from "./module-load-hint.js";

// A frame's file starts after "(" or a space: "node:internal/modules/..." is Node's own.
const FRAME = /(?:^|[\s(])((?:file:\/\/)?\/[^\s():]+):(\d+):(\d+)\)?/gm;

/**
 * A module's load error as one line a developer can jump from: the message, plus the first
 * stack frame in the user's own code (`file:line:col`) when the message does not name one
 * already (a syntax error from the TypeScript loader does; a throw at top level does not).
 */
export function loadErrorText(error: SerializedError, moduleUrl?: string): string {
  const hint = moduleUrl?.startsWith("file:") ? moduleLoadHint(error, fileURLToPath(moduleUrl)) : undefined;
  if (hint) return `${hint} (Node: ${firstSentence(error.message)})`;
  if (/\/[^\s:]+:\d+:\d+/.test(error.message) || !error.stack) return error.message;
  for (const match of error.stack.matchAll(FRAME)) {
    const [, raw = "", line, col] = match;
    const file = raw.startsWith("file://") ? fileURLToPath(raw) : raw;
    if (file.includes("/node_modules/") || file.includes("/host/worker/")) continue;
    return `${error.message} (at ${file}:${line}:${col})`;
  }
  return error.message;
}

function firstSentence(message: string): string {
  const end = message.search(/\.(\s|$)/);
  return end === -1 ? message : message.slice(0, end + 1);
}
