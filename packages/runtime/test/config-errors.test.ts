/** Every configuration mistake is reported with file:line:col, its document, and what was expected. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDiagnostic, loadModuleText } from "../src/config/index.js";
import type { ConfigDiagnostic } from "../src/config/model.js";

function errorsOf(yaml: string): ConfigDiagnostic[] {
  const result = loadModuleText(yaml, "m.yaml");
  assert.equal(result.ok, false, "expected the configuration to be refused");
  return result.ok ? [] : result.errors;
}

function at(diagnostic: ConfigDiagnostic | undefined): string {
  return diagnostic ? `${diagnostic.source.line}:${diagnostic.source.col} ${diagnostic.code}` : "none";
}

const endpoint = (lines: string) => `kind: io.statefun.endpoints.v2/http\nspec:\n${lines}`;

test("bad functions patterns point at the pattern", () => {
  for (const pattern of ["com.example", "a/b/c", "com.*/x", "com.example/gree*", "/x", "x/"]) {
    const [error] = errorsOf(
      endpoint(`  functions: ${pattern}\n  urlPathTemplate: http://h/{function.name}\n`),
    );
    assert.equal(at(error), "3:14 SB_CONFIG_BAD_FUNCTIONS_PATTERN", pattern);
    assert.equal(error?.path, "spec.functions");
  }
});

test("a URL with an unsupported scheme or without a .sock segment is refused at its line", () => {
  for (const url of ["ftp://h/{function.name}", "http+unix:///run/fn/{function.name}", "not a url"]) {
    const [error] = errorsOf(endpoint(`  functions: a/*\n  urlPathTemplate: ${url}\n`));
    assert.equal(at(error), "4:20 SB_CONFIG_BAD_URL", url);
  }
});

test("bad durations say what a duration looks like", () => {
  for (const value of ["5 mins", "-1s", "1.5s", "1h30m", "soon", "''"]) {
    const [error] = errorsOf(
      endpoint(
        `  functions: a/*\n  urlPathTemplate: http://h/\n  transport:\n    timeouts:\n      call: ${value}\n`,
      ),
    );
    assert.equal(at(error), "7:13 SB_CONFIG_BAD_DURATION", value);
  }
});

test("a duration longer than Node's longest timer is refused, naming the largest allowed", () => {
  for (const [key, value] of [
    ["call", "30 d"],
    ["max_backoff", "2147483648"],
  ] as const) {
    const block = key === "call" ? "timeouts" : "retry";
    const [error] = errorsOf(
      endpoint(
        `  functions: a/*\n  urlPathTemplate: http://h/\n  transport:\n    ${block}:\n      ${key}: ${value}\n`,
      ),
    );
    assert.equal(error?.code, "SB_CONFIG_BAD_DURATION", value);
    assert.match(error?.message ?? "", /the largest duration allowed is 2147483647 ms/);
  }
  const longest = loadModuleText(
    endpoint(
      "  functions: a/*\n  urlPathTemplate: http://h/\n  transport:\n    timeouts:\n      call: 2147483647\n",
    ),
    "m.yaml",
  );
  assert.ok(longest.ok);
});

test("timeouts must be positive and connect/read/write no longer than call", () => {
  const errors = errorsOf(
    endpoint(
      `  functions: a/*\n  urlPathTemplate: http://h/\n  transport:\n    timeouts:\n      call: 10s\n      read: 20s\n      write: 0\n`,
    ),
  );
  assert.deepEqual(errors.map(at), ["8:13 SB_CONFIG_TIMEOUT_ORDER", "9:14 SB_CONFIG_TIMEOUT_ORDER"]);
  assert.match(errors[0]?.message ?? "", /read \(20000 ms\) must not be longer than call \(10000 ms\)/);
});

test("wrong types and missing keys are reported where they are, with what was found", () => {
  const errors = errorsOf(endpoint(`  urlPathTemplate: http://h/\n  maxNumBatchRequests: lots\n`));
  const byPath = Object.fromEntries(errors.map((error) => [error.path, error]));
  assert.match(byPath["spec.maxNumBatchRequests"]?.message ?? "", /expected number, found "lots"/);
  assert.equal(at(byPath["spec.maxNumBatchRequests"]), "4:24 SB_CONFIG_INVALID_VALUE");
  assert.match(byPath["spec.functions"]?.message ?? "", /required/);
});

test("an unknown kind lists the known kinds; an unknown transport type is refused", () => {
  const [unknown] = errorsOf("kind: io.statefun.endpoints.v3/http\nspec: {}\n");
  assert.equal(at(unknown), "1:7 SB_CONFIG_UNKNOWN_KIND");
  assert.match(unknown?.message ?? "", /did you mean io\.statefun\.endpoints\.v[12]\/http/);
  assert.match(
    unknown?.message ?? "",
    /known kinds: io\.statefun\.endpoints\.v1\/http, io\.statefun\.endpoints\.v2\/http/,
  );
  const [transport] = errorsOf(
    endpoint(
      `  functions: a/*\n  urlPathTemplate: http://h/\n  transport: { type: io.statefun.transports.v1/carrier-pigeon }\n`,
    ),
  );
  assert.equal(transport?.code, "SB_CONFIG_UNKNOWN_TRANSPORT");
});

test("a document that is not {kind, spec} and YAML syntax errors are reported", () => {
  assert.equal(errorsOf("- just\n- a list\n")[0]?.code, "SB_CONFIG_NOT_A_COMPONENT");
  const [syntax] = errorsOf("kind: a/b\nspec:\n  x: 1\n   y: 2\n");
  assert.equal(syntax?.code, "SB_CONFIG_YAML_SYNTAX");
  assert.equal(syntax?.source.line, 3);
});

test("binding the same namespace or exact type twice names both places", () => {
  const yaml = [1, 2, 3]
    .map(
      (n) =>
        `kind: io.statefun.endpoints.v2/http\nspec:\n  functions: ${n === 3 ? "b/x" : "a/*"}\n  urlPathTemplate: http://h${n}/\n`,
    )
    .join("---\n");
  const errors = errorsOf(
    `${yaml}---\nkind: io.statefun.endpoints.v1/http\nspec:\n  functions: b/x\n  urlPathTemplate: http://h4/\n`,
  );
  assert.deepEqual(
    errors.map((error) => error.code),
    ["SB_CONFIG_DUPLICATE_BINDING", "SB_CONFIG_DUPLICATE_BINDING"],
  );
  // Both places are the `functions:` lines, not the documents' first lines.
  assert.match(errors[0]?.message ?? "", /a\/\* is bound twice: first at m\.yaml:3:14/);
  assert.equal(at(errors[0]), "8:14 SB_CONFIG_DUPLICATE_BINDING");
  assert.match(errors[1]?.message ?? "", /b\/x is bound twice: first at m\.yaml:13:14/);
  assert.equal(at(errors[1]), "18:14 SB_CONFIG_DUPLICATE_BINDING");
});

test("a file with several mistakes reports all of them, across documents", () => {
  const errors = errorsOf(
    `${endpoint("  functions: bad\n  urlPathTemplate: ftp://x\n  maxNumBatchRequests: many\n")}---\nkind: nope/nope\nspec: {}\n`,
  );
  assert.deepEqual(errors.map((error) => error.code).sort(), [
    "SB_CONFIG_BAD_FUNCTIONS_PATTERN",
    "SB_CONFIG_BAD_URL",
    "SB_CONFIG_INVALID_VALUE",
    "SB_CONFIG_UNKNOWN_KIND",
  ]);
  const line = formatDiagnostic(
    errors.find((error) => error.code === "SB_CONFIG_UNKNOWN_KIND") as ConfigDiagnostic,
  );
  assert.match(line, /^m\.yaml:7:7 \[document 2 nope\/nope\] error: kind: unknown kind "nope\/nope"/);
});

test("unknown keys are accepted with a did-you-mean warning", () => {
  const result = loadModuleText(
    endpoint(
      "  functions: a/*\n  urlPathTemplte: x\n  urlPathTemplate: http://h/\n  maxNumBatchRequest: 5\n  transport:\n    timeout: { call: 1s }\n",
    ),
    "m.yaml",
  );
  assert.ok(result.ok);
  assert.deepEqual(
    result.warnings.map((warning) => [warning.source.line, warning.source.col, warning.message]),
    [
      [4, 3, 'unknown key "urlPathTemplte" is ignored (did you mean "urlPathTemplate"?)'],
      [6, 3, 'unknown key "maxNumBatchRequest" is ignored (did you mean "maxNumBatchRequests"?)'],
      [8, 5, 'unknown key "timeout" is ignored (did you mean "timeouts"?)'],
    ],
  );
});

test("TLS client certificate and key go together and must exist", () => {
  const errors = errorsOf(
    endpoint(
      "  functions: a/*\n  urlPathTemplate: https://h/\n  transport:\n    type: io.statefun.transports.v1/async\n    client_cert: /nonexistent/cert.pem\n    trust_cacerts: classpath:ca.pem\n",
    ),
  );
  assert.deepEqual(
    errors.map((error) => error.code),
    ["SB_CONFIG_TLS_FILES", "SB_CONFIG_TLS_FILES", "SB_CONFIG_TLS_FILES"],
  );
  assert.ok(errors.some((error) => /both or neither/.test(error.message)));
  assert.ok(errors.some((error) => /classpath/.test(error.message)));
});
