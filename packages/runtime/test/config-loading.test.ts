import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { parseDuration } from "../src/config/duration.js";
import { defaultRegistry, loadModules, loadModuleText } from "../src/config/index.js";
import { tempDir } from "./support/temp-dir.js";

const run = promisify(execFile);
const CLI = [
  "--conditions=development",
  "--import",
  "tsx",
  new URL("../src/cli/main.ts", import.meta.url).pathname,
];

test("durations follow StateFun's syntax", () => {
  const ok: Array<[string | number, number]> = [
    ["1 min", 60_000],
    ["10 sec", 10_000],
    ["2m", 120_000],
    ["20s", 20_000],
    ["15min", 900_000],
    ["500", 500],
    [500, 500],
    ["1h", 3_600_000],
    ["1d", 86_400_000],
    ["3 MS", 3],
    ["1minute", 60_000],
    ["30seconds", 30_000],
    ["2000us", 2],
    ["1000000ns", 1],
  ];
  for (const [input, ms] of ok) assert.deepEqual(parseDuration(input), { ok: true, ms }, String(input));
  for (const bad of ["1 mins", "-1s", "1.5s", "1h30m", "", "  ", "s", "10 fortnights", -5, 1.5]) {
    assert.equal(parseDuration(bad).ok, false, String(bad));
  }
});

test("an exact binding beats the namespace binding; unknown types are a clear error", () => {
  const result = loadModuleText(
    `kind: io.statefun.endpoints.v2/http
spec: { functions: com.example/*, urlPathTemplate: "http://wild/{function.name}" }
---
kind: io.statefun.endpoints.v2/http
spec: { functions: com.example/special, urlPathTemplate: "http://exact/{function.name}" }
`,
    "m.yaml",
  );
  assert.ok(result.ok);
  const { router } = result.config;
  assert.equal(router.resolve("com.example/special").url, "http://exact/special");
  assert.equal(router.resolve("com.example/other").url, "http://wild/other");
  assert.equal(router.tryResolve("com.examples/other"), undefined, "namespaces match exactly");
  assert.throws(() => router.resolve("org.other/fn"), {
    code: "SB_CONFIG_NO_ENDPOINT",
    message: /no endpoint for function type org\.other\/fn/,
  });
});

test("the legacy 3.0 format maps to the same model", () => {
  const result = loadModuleText(
    `version: "3.0"
module:
  meta:
    type: remote
  spec:
    endpoints:
      - endpoint:
          meta:
            kind: http
          spec:
            functions: example/*
            urlPathTemplate: http://functions:8000/statefun
            maxNumBatchRequests: 500
            timeouts:
              call: 2 min
`,
    "legacy.yaml",
  );
  assert.ok(result.ok, result.ok ? "" : JSON.stringify(result.errors));
  const [e] = result.config.endpoints;
  assert.equal(e?.kind, "io.statefun.endpoints.v1/http");
  assert.equal(e?.maxNumBatchRequests, 500);
  assert.equal(e?.transport.callTimeoutMs, 120_000);
  assert.equal(e?.source.line, 8, "the endpoint's own mapping");
});

test("legacy errors point into the nested document; old versions are refused", () => {
  const bad = loadModuleText(
    `version: "3.0"\nmodule:\n  meta: { type: remote }\n  spec:\n    endpoints:\n      - endpoint:\n          meta: { kind: http }\n          spec:\n            functions: nope\n            urlPathTemplate: http://h/\n`,
    "legacy.yaml",
  );
  assert.equal(bad.ok, false);
  if (!bad.ok)
    assert.deepEqual(
      [bad.errors[0]?.source.line, bad.errors[0]?.code],
      [9, "SB_CONFIG_BAD_FUNCTIONS_PATTERN"],
    );
  const old = loadModuleText(`version: "2.0"\nmodule: {}\n`, "old.yaml");
  assert.equal(old.ok, false);
  if (!old.ok) assert.match(old.errors[0]?.message ?? "", /2\.0 is not supported/);
});

test("registered component kinds are validated by their own schema", async () => {
  const { z } = await import("zod");
  const registry = defaultRegistry().register({
    kind: "test.v1/thing",
    schema: z.object({ port: z.number() }),
  });
  const good = loadModuleText("kind: test.v1/thing\nspec: { port: 1 }\n", "m.yaml", registry);
  assert.ok(good.ok);
  assert.deepEqual(good.config.components[0]?.spec, { port: 1 });
  const bad = loadModuleText("kind: test.v1/thing\nspec:\n  port: x\n", "m.yaml", registry);
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.deepEqual([bad.errors[0]?.source.line, bad.errors[0]?.path], [3, "spec.port"]);
});

test("modules load from several files and from a directory in name order", async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, "modules"));
  writeFileSync(
    join(dir, "modules", "b.yaml"),
    "kind: io.statefun.endpoints.v2/http\nspec: { functions: b/*, urlPathTemplate: 'http://b/' }\n",
  );
  writeFileSync(
    join(dir, "modules", "a.yml"),
    "kind: io.statefun.endpoints.v2/http\nspec: { functions: a/*, urlPathTemplate: 'http://a/' }\n",
  );
  writeFileSync(join(dir, "modules", "notes.txt"), "ignored");
  writeFileSync(
    join(dir, "c.yaml"),
    "---\n---\nkind: io.statefun.endpoints.v2/http\nspec: { functions: c/*, urlPathTemplate: 'http://c/' }\n",
  );
  const result = await loadModules([join(dir, "modules"), join(dir, "c.yaml")]);
  assert.ok(result.ok);
  assert.deepEqual(
    result.config.endpoints.map((e) => e.functions.namespace),
    ["a", "b", "c"],
  );
  const missing = await loadModules([join(dir, "nope.yaml")]);
  assert.equal(missing.ok, false);
  if (!missing.ok) assert.equal(missing.errors[0]?.code, "SB_CONFIG_READ_FAILED");
});

test("switchboard validate prints effective settings, --json the model, and exits 1 on errors", async (t) => {
  const dir = tempDir(t);
  const good = join(dir, "good.yaml");
  writeFileSync(
    good,
    "kind: io.statefun.endpoints.v2/http\nspec:\n  functions: a/*\n  urlPathTemplate: http://h/{function.name}\n",
  );
  const text = await run(process.execPath, [...CLI, "validate", good]);
  assert.match(text.stdout, /a\/\* -> http:\/\/h\/\{function\.name\}/);
  assert.match(text.stdout, /timeouts: call 60000 ms, connect 10000 ms, read 10000 ms, write 10000 ms/);
  const json = JSON.parse((await run(process.execPath, [...CLI, "validate", "--json", good])).stdout);
  assert.equal(json.endpoints[0].functions, "a/*");
  assert.equal(json.endpoints[0].transport.callTimeoutMs, 60_000);

  const bad = join(dir, "bad.yaml");
  writeFileSync(
    bad,
    "kind: io.statefun.endpoints.v2/http\nspec:\n  functions: nope\n  urlPathTemplate: http://h/\n",
  );
  await assert.rejects(
    run(process.execPath, [...CLI, "validate", bad]),
    (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(
        error.stderr,
        /bad\.yaml:3:14 \[document 1 io\.statefun\.endpoints\.v2\/http\] error: spec\.functions/,
      );
      return true;
    },
  );
});

test("switchboard schema prints a JSON Schema covering every component kind", async () => {
  const schema = JSON.parse((await run(process.execPath, [...CLI, "schema"])).stdout) as {
    anyOf: Array<{ properties: { kind: { const: string } } }>;
  };
  const kinds = schema.anyOf.map((entry) => entry.properties.kind.const);
  assert.ok(kinds.includes("io.statefun.endpoints.v2/http"));
  assert.ok(kinds.includes("io.statefun.playground.v1/ingress"));
});
