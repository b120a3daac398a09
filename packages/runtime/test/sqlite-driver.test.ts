import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { isError, StoreErrors } from "../src/errors/index.js";
import { requireSqliteDriver, SQLITE_DRIVER } from "../src/store/sqlite-driver.js";
import { tempDir } from "./support/temp-dir.js";

const exec = promisify(execFile);
const CHURN = join(import.meta.dirname, "support/statement-churn.ts");

test("the store loads better-sqlite3 13 where Node-API 10 is there and 12 elsewhere", () => {
  const { name, version } = createRequire(import.meta.url)(`${SQLITE_DRIVER}/package.json`) as {
    name: string;
    version: string;
  };
  assert.equal(name, "better-sqlite3");
  const napi = Number(process.versions.napi);
  assert.equal(version.split(".")[0], napi >= 10 ? "13" : "12", `Node ${process.version}, Node-API ${napi}`);
});

test("a driver npm left out is SB_STORE_SQLITE_MISSING, saying what to fix", () => {
  assert.throws(
    () => requireSqliteDriver("better-sqlite3-v12-not-installed"),
    (error: unknown) =>
      isError(error, StoreErrors.SQLITE_MISSING) &&
      /optional package "better-sqlite3-v12-not-installed".*--omit=optional/.test(error.message),
  );
});

test("statements dropped by the thousand and collected outside JS do not abort the process", {
  timeout: 120_000,
}, async (t) => {
  // Before 13 was used on Node 24.19+, this child died of SIGABRT in Statement::~Statement
  // in most runs there; a few runs make the odd lucky one unlikely to hide a regression.
  for (let run = 0; run < 3; run++) {
    const { stdout } = await exec(
      process.execPath,
      ["--expose-gc", "--conditions=development", "--import", "tsx", CHURN, tempDir(t)],
      { timeout: 60_000 },
    );
    assert.equal(stdout.trim(), "churned");
  }
});
