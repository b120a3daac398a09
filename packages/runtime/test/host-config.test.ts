import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultRegistry } from "../src/config/component-registry.js";
import { formatDiagnostic, loadModuleText } from "../src/config/load-modules.js";
import { registerHostKinds } from "../src/host/host-kinds.js";
import type { ModuleSpec } from "../src/host/module-spec.js";

/** Module YAML "beside" the test fixtures, so `module: ./host/web-module.ts` exists. */
const MODULE_YAML = new URL("./support/m.yaml", import.meta.url).pathname;

const registry = () => registerHostKinds(defaultRegistry());

test("a module component gets its defaults: workers = cores, 512 MB, 30 s, any host but link-local", () => {
  const result = loadModuleText(
    "kind: io.switchboard.functions.v1/module\nspec: { module: ./host/web-module.ts }\n",
    MODULE_YAML,
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
    "  module: ./host/web-module.ts",
    "  limts: { memory: 64 }",
    "  limits: { timeout: 5 mins, memory: 8 }",
    "  env: { A: { fromEnvv: X } }",
    "  functions: [not-a-typename]",
  ].join("\n");
  const result = loadModuleText(text, MODULE_YAML, registry());
  assert.equal(result.ok, false);
  const lines = result.ok ? [] : result.errors.map(formatDiagnostic);
  const all = lines.join("\n");
  assert.match(all, /m\.yaml:5:\d+ .*spec\.limits\.timeout: "mins" in "5 mins" is not a time unit/);
  assert.match(all, /spec\.limits\.memory/);
  assert.match(all, /m\.yaml:6:\d+ .*spec\.env\.A: expected a string, or \{ fromEnv: NAME/);
  assert.match(all, /spec\.functions\.0: .*namespace\/name/);
  assert.match(all, /m\.yaml:4:\d+ .* error: spec\.limts: unknown key "limts" \(did you mean "limits"\?\)/);
});

test("a module timeout longer than Node's longest timer is refused", () => {
  const text =
    "kind: io.switchboard.functions.v1/module\nspec: { module: ./host/web-module.ts, limits: { timeout: 30 d } }\n";
  const result = loadModuleText(text, MODULE_YAML, registry());
  assert.equal(result.ok, false);
  const all = result.ok ? "" : result.errors.map(formatDiagnostic).join("\n");
  assert.match(
    all,
    /spec\.limits\.timeout: "30 d" is too long: the largest duration allowed is 2147483647 ms/,
  );
});

test("per-function overrides parse with only what they set; the module's settings stay the defaults", () => {
  const text = [
    "kind: io.switchboard.functions.v1/module",
    "spec:",
    "  module: ./host/web-module.ts",
    "  overrides:",
    "    embed: { limits: { timeout: 60s, memory: 1024 }, outbound: { allow: ['https://api.openai.com'] } }",
    "    example/*: { env: { MODEL: { fromEnv: EMBED_MODEL } }, workers: 1 }",
  ].join("\n");
  const result = loadModuleText(text, MODULE_YAML, registry());
  assert.ok(result.ok, result.ok ? "" : result.errors.map(formatDiagnostic).join("\n"));
  const spec = result.config.components[0]?.spec as ModuleSpec;
  assert.deepEqual(spec.overrides, {
    embed: { limits: { timeout: 60_000, memory: 1024 }, outbound: { allow: ["https://api.openai.com"] } },
    "example/*": { env: { MODEL: { fromEnv: "EMBED_MODEL", required: true } }, workers: 1 },
  });
  assert.equal(spec.limits.timeout, 30_000);
});

test("override mistakes are reported at their line: keys, names, allow patterns, functions not routed here", () => {
  const text = [
    "kind: io.switchboard.functions.v1/module",
    "spec:",
    "  module: ./host/web-module.ts",
    "  web: [embed]",
    "  functions: [example/greeter]",
    "  outbound: { allow: [api.example.com] }",
    "  overrides:",
    "    embed: { limits: { timout: 1s } }",
    "    chat: { workers: 1 }",
    "    example/other: { workers: 1 }",
    "    'bad name': { workers: 1 }",
    "    example/greeter: { outbound: { allow: ['ftp://x'] } }",
  ].join("\n");
  const result = loadModuleText(text, MODULE_YAML, registry());
  assert.equal(result.ok, false);
  const all = (result.ok ? [] : result.errors.map(formatDiagnostic)).join("\n");
  assert.match(all, /m\.yaml:6:\d+ .*spec\.outbound\.allow\.0: "api\.example\.com" is not a host pattern/);
  assert.match(all, /m\.yaml:8:\d+ .*spec\.overrides\.embed\.limits: .*timout/);
  assert.match(
    all,
    /m\.yaml:11:\d+ .*spec\.overrides\.bad name: an override is named by a web function name/,
  );
  assert.match(
    all,
    /m\.yaml:12:\d+ .*spec\.overrides\.example\/greeter\.outbound\.allow\.0: "ftp:\/\/x" is not a host pattern/,
  );
  // Names the module's own lists do not route here: checked once the rest is valid.
  const routed = loadModuleText(
    text
      .replace("  outbound: { allow: [api.example.com] }\n", "")
      .replace(/ {4}embed: .*\n/, "    embed: { limits: { timeout: 1s } }\n")
      .replace(/ {4}'bad name'.*\n/, "")
      .replace(/ {4}example\/greeter: .*/, ""),
    MODULE_YAML,
    registry(),
  );
  const lines = (routed.ok ? [] : routed.errors.map(formatDiagnostic)).join("\n");
  assert.match(lines, /m\.yaml:8:\d+ .*spec\.overrides\.chat: chat is not among this module's web \(embed\)/);
  assert.match(
    lines,
    /m\.yaml:9:\d+ .*spec\.overrides\.example\/other: example\/other is not among this module's functions \(example\/greeter\)/,
  );
  assert.doesNotMatch(lines, /overrides\.embed/);
});

test("switchboard schema describes the overrides", () => {
  const schema = JSON.stringify(registry().jsonSchema());
  assert.match(schema, /"overrides"/);
  assert.match(schema, /allowLinkLocal/);
});
