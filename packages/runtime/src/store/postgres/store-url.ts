import { StoreErrors } from "../../errors/store-errors.js";
import { SwitchboardError } from "../../errors/switchboard-error.js";

/** A validated PostgreSQL store URL. Only `redacted` may be printed or logged. */
export interface StoreUrl {
  /** The URL as given, password included: for the driver only. */
  readonly url: string;
  /** The same with any password replaced by `***`. */
  readonly redacted: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string | undefined;
}

const SCHEMES = new Set(["postgres:", "postgresql:"]);

/** True when `raw` names a PostgreSQL store rather than a SQLite data directory. */
export function isPostgresUrl(raw: string): boolean {
  return /^postgres(ql)?:\/\//i.test(raw.trim());
}

/**
 * Checks a `--store` value: `postgres://user[:password]@host[:port]/database[?options]`
 * (`postgresql://` too). Errors name the problem and show the URL with its password hidden.
 */
export function parseStoreUrl(raw: string): StoreUrl {
  const trimmed = raw.trim();
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw badUrl(redactText(trimmed), "is not a URL");
  }
  const redacted = redactUrl(parsed);
  if (!SCHEMES.has(parsed.protocol)) {
    throw badUrl(
      redacted,
      `has scheme ${parsed.protocol.replace(/:$/, "")}, expected postgres or postgresql`,
    );
  }
  if (parsed.hostname === "") throw badUrl(redacted, "names no host");
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (database === "" || database.includes("/"))
    throw badUrl(redacted, "must name one database, as in /switchboard");
  const port = parsed.port === "" ? 5432 : Number(parsed.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw badUrl(redacted, "has a port outside 1..65535");
  return {
    url: trimmed,
    redacted,
    host: parsed.hostname,
    port,
    database,
    user: parsed.username === "" ? undefined : decodeURIComponent(parsed.username),
  };
}

function redactUrl(url: URL): string {
  if (url.password === "") return url.toString();
  const copy = new URL(url.toString());
  copy.password = "***";
  return copy.toString();
}

/** For strings URL cannot parse: hide whatever sits between `user:` and `@`. */
function redactText(text: string): string {
  return text.replace(/^([a-z]+:\/\/[^:/@]*):[^@]*@/i, "$1:***@");
}

function badUrl(shown: string, problem: string): SwitchboardError {
  return new SwitchboardError(
    StoreErrors.BAD_URL,
    `store URL ${shown} ${problem} (expected postgres://user[:password]@host[:port]/database)`,
    { url: shown },
  );
}
