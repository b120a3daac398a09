/** The logging surface the runtime needs; pino loggers satisfy it. */
export interface Logger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
  debug(object: object, message?: string): void;
  child(bindings: object): Logger;
}

/** A logger that drops everything, for tests and embedding. */
export const silentLogger: Logger = {
  info() {},
  warn() {},
  error() {},
  debug() {},
  child() {
    return silentLogger;
  },
};
