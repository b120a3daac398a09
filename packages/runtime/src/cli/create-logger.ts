import pino from "pino";
import type { Logger } from "../dispatch/logger.js";

/** JSON log lines on stderr, so stdout stays for what a command prints for people. */
export function createLogger(level = process.env.SWITCHBOARD_LOG_LEVEL ?? "info"): Logger {
  return pino({ level, base: undefined }, pino.destination(2)) as unknown as Logger;
}
