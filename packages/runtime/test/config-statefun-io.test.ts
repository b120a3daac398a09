/** StateFun's Kafka and Kinesis I/O kinds: refused with what to use instead, not "unknown kind". */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { formatDiagnostic, loadModuleText } from "../src/config/index.js";
import { tempDir } from "./support/temp-dir.js";

const run = promisify(execFile);
const REPO = new URL("../../../", import.meta.url).pathname;

const KAFKA_MODULE = `kind: io.statefun.endpoints.v2/http
spec:
  functions: example/*
  urlPathTemplate: http://functions:8000/statefun
---
kind: io.statefun.kafka.v1/ingress
spec:
  id: example/names
  address: kafka:9092
  consumerGroupId: my-group
  topics:
    - topic: names
      valueType: io.statefun.types/string
      targets: [example/greeter]
---
kind: io.statefun.kinesis.v1/egress
spec:
  id: example/greets
  awsRegion: { type: specific, id: us-west-1 }
`;

test("Kafka and Kinesis components are errors that name the replacement and the migration guide", () => {
  const result = loadModuleText(KAFKA_MODULE, "module.yaml");
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(
    result.errors.map((error) => `${error.source.line}:${error.source.col} ${error.code}`),
    ["6:7 SB_CONFIG_UNSUPPORTED_KIND", "16:7 SB_CONFIG_UNSUPPORTED_KIND"],
  );
  const [kafka, kinesis] = result.errors.map(formatDiagnostic);
  assert.match(
    kafka ?? "",
    /io\.statefun\.kafka\.v1\/ingress is StateFun's Kafka ingress, which Switchboard does not run .*io\.statefun\.playground\.v1\/ingress.*See docs\/statefun-migration\.md$/,
  );
  assert.match(
    kinesis ?? "",
    /StateFun's Kinesis egress.*io\.switchboard\.v1\/webhook-egress.*statefun-migration\.md$/,
  );
  assert.doesNotMatch(kafka ?? "", /unknown kind/);
});

test("the legacy 3.0 format's Kafka ingress gets the same error", () => {
  const result = loadModuleText(
    `version: "3.0"
module:
  meta: { type: remote }
  spec:
    ingresses:
      - ingress:
          meta: { type: io.statefun.kafka/ingress, id: example/names }
          spec: { address: "kafka:9092", topics: [] }
`,
    "legacy.yaml",
  );
  assert.equal(result.ok, false);
  if (!result.ok)
    assert.deepEqual(
      result.errors.map((error) => error.code),
      ["SB_CONFIG_UNSUPPORTED_KIND"],
    );
});

test("switchboard validate says the same, and the guide it names exists", async (t) => {
  const file = join(tempDir(t), "module.yaml");
  writeFileSync(file, KAFKA_MODULE);
  const failed = await run(
    process.execPath,
    ["--conditions=development", "--import", "tsx", "packages/runtime/src/cli/main.ts", "validate", file],
    { cwd: REPO },
  ).then(
    () => assert.fail("validate accepted Kafka I/O"),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /module\.yaml:6:7 .*StateFun's Kafka ingress.*docs\/statefun-migration\.md/);
  assert.match(failed.stderr, /2 errors; nothing would start/);
  assert.ok(existsSync(join(REPO, "docs/statefun-migration.md")));
});
