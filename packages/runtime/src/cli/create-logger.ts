import pino from "pino";
import type { Logger } from "../dispatch/logger.js";
import { prettyLogStream } from "./pretty-log-stream.js";

/**
 * Field paths that never reach a log line, whoever logs them: credentials in headers and
 * message or record bodies. The runtime does not log them on purpose; this is the net.
 */
export const REDACTED_PATHS = [
  "headers.authorization",
  "headers.cookie",
  "*.headers.authorization",
  "*.headers.cookie",
  "*.headers['proxy-authorization']",
  "body",
  "*.body",
  "value",
  "*.value",
  "password",
  "*.password",
  "token",
  "*.token",
];

/**
 * JSON log lines on stderr, so stdout stays for what a command prints for people; one
 * readable line per entry instead when stderr is a terminal (SWITCHBOARD_LOG_FORMAT=json
 * forces JSON).
 */
export function createLogger(
  level = process.env.SWITCHBOARD_LOG_LEVEL ?? "info",
  destination?: { write(text: string): unknown },
): Logger {
  const options = { level, base: undefined, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } };
  if (destination) return pino(options, destination) as unknown as Logger;
  const pretty = process.stderr.isTTY === true && process.env.SWITCHBOARD_LOG_FORMAT !== "json";
  return pino(options, pretty ? prettyLogStream(process.stderr) : pino.destination(2)) as unknown as Logger;
}
