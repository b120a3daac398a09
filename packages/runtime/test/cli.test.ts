import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const cli = new URL("../src/cli/main.ts", import.meta.url).pathname;
const nodeArgs = ["--conditions=development", "--import", "tsx", cli];

test("switchboard --version prints the package version", async () => {
  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  const { stdout } = await run(process.execPath, [...nodeArgs, "--version"]);
  assert.equal(stdout.trim(), version);
});

test("switchboard --help describes the program", async () => {
  const { stdout } = await run(process.execPath, [...nodeArgs, "--help"]);
  assert.match(stdout, /Usage: switchboard/);
  assert.match(stdout, /StateFun-compatible/);
});
