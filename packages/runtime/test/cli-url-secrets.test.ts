/** What validate and the start-up banner print never carries URL user info or query strings. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { printRuntime } from "../src/cli/print-runtime.js";
import { Runtime } from "../src/runtime.js";
import { writeModuleYaml } from "./support/module-yaml.js";
import { tempDir } from "./support/temp-dir.js";

const run = promisify(execFile);
const CLI = [
  "--conditions=development",
  "--import",
  "tsx",
  new URL("../src/cli/main.ts", import.meta.url).pathname,
];

const SECRET_ENDPOINT = [
  "kind: io.statefun.endpoints.v2/http",
  "spec:",
  "  functions: test/*",
  "  urlPathTemplate: http://user:secretpw@127.0.0.1:1/{function.name}?token=abc",
].join("\n");

const SECRET_WEBHOOK = [
  "kind: io.switchboard.v1/webhook-egress",
  "spec:",
  "  id: test/hook",
  "  url: https://hooks.example/in?token=webhooktoken",
].join("\n");

function assertNoSecrets(text: string): void {
  assert.doesNotMatch(text, /secretpw|token=abc|webhooktoken|user:/);
}

test("switchboard validate prints URLs without user info or query string, as text and as JSON", async (t) => {
  const file = writeModuleYaml(tempDir(t), SECRET_ENDPOINT, SECRET_WEBHOOK);
  const text = (await run(process.execPath, [...CLI, "validate", file])).stdout;
  assert.match(text, /test\/\* -> http:\/\/\[redacted\]@127\.0\.0\.1:1\/\{function\.name\}\?\[redacted\]/);
  assert.match(text, /hooks\.example\/in\?\[redacted\]/);
  assertNoSecrets(text);
  const json = (await run(process.execPath, [...CLI, "validate", "--json", file])).stdout;
  const model = JSON.parse(json);
  assert.equal(
    model.endpoints[0].urlPathTemplate,
    "http://[redacted]@127.0.0.1:1/{function.name}?[redacted]",
  );
  assertNoSecrets(json);
});

test("the start-up banner prints endpoint URLs without user info or query string", async (t) => {
  const dir = tempDir(t);
  const runtime = await Runtime.start({
    modules: [writeModuleYaml(dir, SECRET_ENDPOINT)],
    dataDir: join(dir, "data"),
  });
  t.after(() => runtime.stop());
  const lines: string[] = [];
  t.mock.method(console, "log", (line: string) => lines.push(line));
  printRuntime(runtime);
  t.mock.restoreAll();
  const banner = lines.join("\n");
  assert.match(
    banner,
    /functions test\/\* -> http:\/\/\[redacted\]@127\.0\.0\.1:1\/\{function\.name\}\?\[redacted\]/,
  );
  assertNoSecrets(banner);
});
