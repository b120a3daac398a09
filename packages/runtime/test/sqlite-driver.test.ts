import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { isError, StoreErrors } from "../src/errors/index.js";
import { requireSqliteDriver, SQLITE_DRIVER } from "../src/store/sqlite-driver.js";

const exec = promisify(execFile);
const CHURN = join(import.meta.dirname, "support/statement-churn.ts");
const PACKAGE = join(import.meta.dirname, "..");

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
}, async () => {
  // Before 13 was used on Node 24.19+, this child died of SIGABRT in Statement::~Statement
  // in most runs there; a few runs make the odd lucky one unlikely to hide a regression.
  for (let run = 0; run < 3; run++) {
    const { stdout } = await exec(
      process.execPath,
      ["--expose-gc", "--conditions=development", "--import", "tsx", CHURN],
      { timeout: 60_000 },
    );
    assert.equal(stdout.trim(), "churned");
  }
});

test("only store/sqlite-driver.ts loads better-sqlite3, in src and test alike", () => {
  // Anything else importing it would get 13 where 12 is needed (Node 20, where npm does not
  // even install 13) and would not say why; type-only imports are fine.
  const loads = /^import (?!type )[^;]*from "better-sqlite3(-v12)?"|require\("better-sqlite3(-v12)?"\)/m;
  const offenders = ["src", "test"]
    .flatMap((dir) =>
      readdirSync(join(PACKAGE, dir), { recursive: true, encoding: "utf8" }).map((f) => join(dir, f)),
    )
    .filter((file) => file.endsWith(".ts") && file !== join("src", "store", "sqlite-driver.ts"))
    .filter((file) => loads.test(readFileSync(join(PACKAGE, file), "utf8")));
  assert.deepEqual(offenders, [], `open SQLite with openSqlite() from store/sqlite-driver.ts instead`);
});
