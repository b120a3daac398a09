import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultRegistry } from "../src/config/component-registry.js";
import { formatDiagnostic, loadModuleText } from "../src/config/load-modules.js";
import { registerHostKinds } from "../src/host/host-kinds.js";
import type { ModuleSpec } from "../src/host/module-spec.js";

const registry = () => registerHostKinds(defaultRegistry());

test("a module component gets its defaults: workers = cores, 512 MB, 30 s, any host but link-local", () => {
  const result = loadModuleText(
    "kind: io.switchboard.functions.v1/module\nspec: { module: ./f.ts }\n",
    "m.yaml",
    registry(),
  );
  assert.ok(result.ok);
  const spec = result.config.components[0]?.spec as ModuleSpec;
  assert.ok(spec.workers >= 1);
  assert.deepEqual(spec.limits, { memory: 512, timeout: 30_000, dataBytes: 32 * 1024 * 1024 });
  assert.deepEqual(spec.outbound, { allowLinkLocal: false, timeout: 60_000 });
});

test("module mistakes are reported with line:col and what is expected", () => {
  const text = [
    "kind: io.switchboard.functions.v1/module",
    "spec:",
    "  module: ./f.ts",
    "  limts: { memory: 64 }",
    "  limits: { timeout: 5 mins, memory: 8 }",
    "  env: { A: { fromEnvv: X } }",
    "  functions: [not-a-typename]",
  ].join("\n");
  const result = loadModuleText(text, "m.yaml", registry());
  assert.equal(result.ok, false);
  const lines = result.ok ? [] : result.errors.map(formatDiagnostic);
  const all = lines.join("\n");
  assert.match(all, /m\.yaml:5:\d+ .*spec\.limits\.timeout: "mins" in "5 mins" is not a time unit/);
  assert.match(all, /spec\.limits\.memory/);
  assert.match(all, /m\.yaml:6:\d+ .*spec\.env\.A: expected a string, or \{ fromEnv: NAME/);
  assert.match(all, /spec\.functions\.0: .*namespace\/name/);
  assert.ok(result.warnings.some((warning) => /did you mean "limits"/.test(warning.message)));
});
