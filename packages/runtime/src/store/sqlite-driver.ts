import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";
import { StoreErrors } from "../errors/store-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";

/**
 * The one place that loads better-sqlite3: every SQLite connection the runtime (and its tests)
 * opens comes from here, so all of them use the build this Node can run.
 *
 * Two majors, because neither runs everywhere we support:
 * - better-sqlite3 12 derives its Database and Statement from node::ObjectWrap. Built against
 *   Node 24.19 or later, ObjectWrap's destructor needs a JS context to be entered; a Statement
 *   collected by an idle GC or at exit then aborts the whole process (SIGABRT).
 * - better-sqlite3 13 is on Node-API and has no such destructor, but it is compiled for
 *   Node-API 10, which Node 20 (and 22 before 22.14) lacks: it segfaults there, prebuilt or
 *   built from source alike.
 * So 13 wherever Node-API 10 is there, 12 elsewhere. Their API is the same (13 adds methods we
 * do not use), and both go through @types/better-sqlite3. package.json installs both as
 * optional packages: 13 as `better-sqlite3`, which npm skips without a word where its engines
 * (node >= 22) exclude the running Node, and 12 as `better-sqlite3-v12`, so that where 13 is
 * used a failed build of 12 (no prebuilt binary, no compiler) does not fail the install.
 */
export const SQLITE_DRIVER = Number(process.versions.napi) >= 10 ? "better-sqlite3" : "better-sqlite3-v12";

export type SqliteDatabase = BetterSqlite3.Database;
export type SqliteOptions = BetterSqlite3.Options;

const require = createRequire(import.meta.url);
let driver: typeof BetterSqlite3 | undefined;

/** Loads the driver package `name`; a missing or unloadable one is SB_STORE_SQLITE_MISSING. */
export function requireSqliteDriver(name: string): typeof BetterSqlite3 {
  try {
    return require(name) as typeof BetterSqlite3;
  } catch (error) {
    // npm leaves an optional package out without a word, so say what it may have been.
    const why =
      name === "better-sqlite3-v12"
        ? "npm leaves it out when its build from source fails (that needs a C++ compiler, make and python3) " +
          "or with --omit=optional"
        : "npm leaves it out with --omit=optional";
    throw new SwitchboardError(
      StoreErrors.SQLITE_MISSING,
      `SQLite cannot be loaded: on Node ${process.version} (Node-API ${process.versions.napi}) the store uses ` +
        `the optional package "${name}", which is missing or does not load ` +
        `(${(error as Error).message.split("\n")[0]}); ${why}: fix that and run npm install again`,
      { package: name, node: process.version, napi: process.versions.napi },
      { cause: error },
    );
  }
}

/** Opens (creating when missing, unless readonly) the SQLite database file at `file`. */
export function openSqlite(file: string, options?: SqliteOptions): SqliteDatabase {
  // Loaded on first use, so that only a process that opens SQLite needs it.
  driver ??= requireSqliteDriver(SQLITE_DRIVER);
  return new driver(file, options);
}
