/** Unknown keys: warnings in StateFun's kinds (as StateFun ignores them), errors in Switchboard's. */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { allComponentKinds } from "../src/config/all-component-kinds.js";
import { loadModules } from "../src/config/index.js";
import { tempDir } from "./support/temp-dir.js";

test("a typo in a Switchboard kind's key is an error with did-you-mean, and nothing starts", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "module.yaml");
  // The module file exists, so the typos are the only errors.
  writeFileSync(join(dir, "functions.ts"), "export default {};\n");
  writeFileSync(
    file,
    `kind: io.switchboard.functions.v1/module
spec:
  module: ./functions.ts
  functions: [app/counter]
  limit:
    timeout: 10s
---
kind: io.switchboard.functions.v1/web
spec:
  port: 0
  hots: 127.0.0.1
`,
  );
  const result = await loadModules([file], allComponentKinds());
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(
    result.errors.map((error) => [error.source.line, error.code, error.path]),
    [
      [5, "SB_CONFIG_UNKNOWN_KEY", "spec.limit"],
      [11, "SB_CONFIG_UNKNOWN_KEY", "spec.hots"],
    ],
  );
  assert.match(
    result.errors[0]?.message ?? "",
    /^unknown key "limit" \(did you mean "limits"\?\); known keys: .*limits/,
  );
  assert.match(result.errors[1]?.message ?? "", /did you mean "host"/);
});

test("a typo in a StateFun kind's key stays a warning, as StateFun ignores it", async (t) => {
  const file = join(tempDir(t), "module.yaml");
  writeFileSync(
    file,
    `kind: io.statefun.playground.v1/ingress
spec:
  port: 0
  prot: 8090
`,
  );
  const result = await loadModules([file], allComponentKinds());
  assert.ok(result.ok, result.ok ? "" : JSON.stringify(result.errors));
  assert.deepEqual(
    result.warnings.map((warning) => [warning.severity, warning.code, warning.message]),
    [["warning", "SB_CONFIG_UNKNOWN_KEY", 'unknown key "prot" is ignored (did you mean "port"?)']],
  );
});
