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

/**
 * Strips what may be secret from URLs inside a message meant for logs or the admin API:
 * user info (`user:pass@`) and query strings (tokens are often passed there).
 */
export function redactUrls(text: string): string {
  return text.replace(
    /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@]*@)?([^\s?#]*)(\?[^\s#]*)?/gi,
    (_, scheme, user, rest, query) =>
      `${scheme}${user ? "[redacted]@" : ""}${rest}${query ? "?[redacted]" : ""}`,
  );
}

/** redactUrls applied to every string inside a JSON-like value (what `validate --json` prints). */
export function redactUrlsIn<T>(value: T): T {
  if (typeof value === "string") return redactUrls(value) as T;
  if (Array.isArray(value)) return value.map((item) => redactUrlsIn(item)) as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactUrlsIn(item)])) as T;
  }
  return value;
}
