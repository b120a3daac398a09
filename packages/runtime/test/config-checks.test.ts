/** Mistakes `switchboard validate` used to pass and only `run` (or nothing) caught. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { allComponentKinds } from "../src/config/all-component-kinds.js";
import { formatDiagnostic, loadModuleText } from "../src/config/load-modules.js";
import type { ConfigDiagnostic } from "../src/config/model.js";

/** Module YAML "beside" the test fixtures, so `module: ./host/web-module.ts` exists. */
const MODULE_YAML = new URL("./support/m.yaml", import.meta.url).pathname;

function load(yaml: string) {
  return loadModuleText(yaml, MODULE_YAML, allComponentKinds());
}

function errorsOf(yaml: string): ConfigDiagnostic[] {
  const result = load(yaml);
  assert.equal(result.ok, false, "expected the configuration to be refused");
  return result.ok ? [] : result.errors;
}

const at = (diagnostic: ConfigDiagnostic | undefined) =>
  diagnostic ? `${diagnostic.source.line}:${diagnostic.source.col} ${diagnostic.code}` : "none";

const endpoint = (transport: string) =>
  `kind: io.statefun.endpoints.v2/http\nspec:\n  functions: a/*\n  urlPathTemplate: http://h/\n  transport:\n${transport}`;

test("async-profile keys under the default profile are checked as durations and reported as ignored", () => {
  const [bad] = errorsOf(endpoint("    call: -1s\n"));
  assert.equal(at(bad), "6:11 SB_CONFIG_BAD_DURATION");
  const result = load(endpoint("    connect: 0\n    pool_ttl: 5s\n"));
  assert.ok(result.ok);
  assert.deepEqual(
    result.warnings.map((warning) => `${at(warning)} ${warning.message}`),
    [
      "6:14 SB_CONFIG_IGNORED_KEY connect is ignored by the default transport profile, which reads timeouts.connect (set type: io.statefun.transports.v1/async for the async profile)",
      "7:15 SB_CONFIG_IGNORED_KEY pool_ttl is ignored by the default transport profile (set type: io.statefun.transports.v1/async for the async profile)",
    ],
  );
  const asyncProfile = load(
    endpoint("    type: io.statefun.transports.v1/async\n    call: 5s\n    connect: 1s\n"),
  );
  assert.ok(asyncProfile.ok);
  assert.deepEqual(asyncProfile.warnings, []);
});

test("two listeners on one port are refused at the second port, naming the first", () => {
  const errors = errorsOf(
    [
      "kind: io.statefun.playground.v1/ingress",
      "spec: { port: 18090 }",
      "---",
      "kind: io.statefun.playground.v1/egress",
      "spec:",
      "  port: 18090",
      "  topics: [t]",
      "---",
      "kind: io.switchboard.functions.v1/web",
      "spec: { port: 18091, host: 0.0.0.0 }",
      "---",
      "kind: io.statefun.playground.v1/egress",
      "spec: { port: 18091, host: 127.0.0.2, topics: [u] }",
    ].join("\n"),
  );
  assert.deepEqual(errors.map(at), ["6:9 SB_CONFIG_PORT_CLASH", "13:15 SB_CONFIG_PORT_CLASH"]);
  assert.match(
    formatDiagnostic(errors[0] as ConfigDiagnostic),
    /spec\.port: port 18090 is already taken by io\.statefun\.playground\.v1\/ingress at .*m\.yaml:2:15/,
  );
  // Port 0 picks a free port, and two interfaces may each have the same port.
  const fine = load(
    [
      "kind: io.statefun.playground.v1/ingress",
      "spec: { port: 0 }",
      "---",
      "kind: io.statefun.playground.v1/egress",
      "spec: { port: 0, topics: [t] }",
      "---",
      "kind: io.switchboard.functions.v1/web",
      "spec: { port: 18092, host: 127.0.0.1 }",
      "---",
      "kind: io.statefun.playground.v1/ingress",
      "spec: { port: 18092, host: 127.0.0.2 }",
    ].join("\n"),
  );
  assert.ok(fine.ok, fine.ok ? "" : fine.errors.map(formatDiagnostic).join("\n"));
});

test("a functions pattern with whitespace is refused", () => {
  const [error] = errorsOf(
    'kind: io.statefun.endpoints.v2/http\nspec:\n  functions: "a b/c"\n  urlPathTemplate: http://h/\n',
  );
  assert.equal(at(error), "3:14 SB_CONFIG_BAD_FUNCTIONS_PATTERN");
  assert.match(error?.message ?? "", /whitespace/);
});

test("a YAML alias bomb is an error at its first alias, not a crash", () => {
  const lines = [
    "kind: io.statefun.endpoints.v2/http",
    "spec:",
    "  functions: a/*",
    "  urlPathTemplate: http://h/",
  ];
  lines.push("  l0: &l0 [x, x, x, x, x, x, x, x, x, x]");
  for (let level = 1; level < 7; level++) {
    lines.push(
      `  l${level}: &l${level} [${Array(10)
        .fill(`*l${level - 1}`)
        .join(", ")}]`,
    );
  }
  const [error] = errorsOf(lines.join("\n"));
  assert.equal(at(error), "6:12 SB_CONFIG_YAML_ALIASES");
  assert.equal(error?.source.file, MODULE_YAML);
});

test("a module file that does not exist is refused by validation, at its line", () => {
  const [error] = errorsOf("kind: io.switchboard.functions.v1/module\nspec:\n  module: ./host/missing.ts\n");
  assert.equal(at(error), "3:11 SB_CONFIG_MISSING_FILE");
  assert.match(
    error?.message ?? "",
    /module \.\/host\/missing\.ts does not exist \(.*support\/host\/missing\.ts\)/,
  );
  assert.ok(load("kind: io.switchboard.functions.v1/module\nspec:\n  module: ./host/web-module.ts\n").ok);
});
