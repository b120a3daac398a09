import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { Logger } from "../src/dispatch/logger.js";
import { Runtime } from "../src/runtime.js";
import { startFunctionServer } from "./support/function-server.js";
import { countInvocations, decodeInt, INT, ProtocolFunction } from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";
import { until } from "./support/until.js";

interface Line {
  readonly bindings: Record<string, unknown>;
  readonly fields: Record<string, unknown>;
  readonly message: string | undefined;
}

/** Keeps every info line with the bindings of the child logger that wrote it. */
function capturingLogger(lines: Line[], bindings: Record<string, unknown> = {}): Logger {
  return {
    info: (fields, message) => lines.push({ bindings, fields: fields as Record<string, unknown>, message }),
    warn() {},
    error() {},
    debug() {},
    child: (more) => capturingLogger(lines, { ...bindings, ...more }),
  };
}

test("log egress writes each record as one log line, text when printable and base64 otherwise, then drops it from the outbox", async (t) => {
  const dir = tempDir(t);
  const fn = new ProtocolFunction([{ name: "count", typename: INT }], (state, invocation, effects) => {
    countInvocations(state, invocation, effects);
    const count = decodeInt(state.get("count"));
    effects.egress.push({
      egressNamespace: "dev",
      egressType: "log",
      argument: { typename: "example/Text", hasValue: true, value: Buffer.from(`hello #${count}`) },
    });
    effects.egress.push({
      egressNamespace: "dev",
      egressType: "log",
      argument: { typename: "example/Bytes", hasValue: true, value: new Uint8Array([0, 255, count]) },
    });
  });
  const server = await startFunctionServer({ "test/fn": fn });
  t.after(() => server.close());
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    [
      "kind: io.statefun.endpoints.v2/http",
      "spec:",
      "  functions: test/*",
      `  urlPathTemplate: ${server.url}/{function.name}`,
      "---",
      "kind: io.switchboard.v1/log-egress",
      "spec: { id: dev/log }",
      "",
    ].join("\n"),
  );
  const lines: Line[] = [];
  const runtime = await Runtime.start({
    modules: [file],
    dataDir: join(dir, "data"),
    logger: capturingLogger(lines),
  });
  t.after(() => runtime.stop());

  for (let i = 0; i < 2; i++) {
    await runtime.dispatcher.accept({
      target: { fn: "test/fn", id: "a" },
      argument: { typename: INT, hasValue: false, value: new Uint8Array(0) },
    });
    await runtime.dispatcher.settled();
  }
  const records = () => lines.filter((line) => line.message === "egress record");
  await until("four egress log lines", () => records().length === 4);
  await until("the outbox to empty", () => runtime.store.egress.count() === 0);

  assert.ok(records().every((line) => line.bindings.egress === "dev/log"));
  assert.deepEqual(
    records().map(({ fields }) => [fields.typename, fields.text ?? fields.base64]),
    [
      ["example/Text", "hello #1"],
      ["example/Bytes", Buffer.from([0, 255, 1]).toString("base64")],
      ["example/Text", "hello #2"],
      ["example/Bytes", Buffer.from([0, 255, 2]).toString("base64")],
    ],
  );
  const seqs = records().map(({ fields }) => fields.seq as number);
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
    "records are logged in commit order",
  );
});
