import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { createLogger } from "../src/cli/create-logger.js";
import { prettyLogStream } from "../src/cli/pretty-log-stream.js";
import { Runtime } from "../src/runtime.js";
import { startFunctionServer } from "./support/function-server.js";
import { startOpsFixture } from "./support/ops-fixture.js";
import { ProtocolFunction } from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";
import { until } from "./support/until.js";

/** How the waits in this file poll. */
const POLL = { timeoutMs: 15_000 };

function capture(): { lines: Array<Record<string, unknown>>; raw: string[]; write(text: string): void } {
  const raw: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  return {
    raw,
    lines,
    write(text: string) {
      raw.push(text);
      lines.push(JSON.parse(text) as Record<string, unknown>);
    },
  };
}

test("each failed batch logs one line with address, invocation id, endpoint and code, and no body or URL secret", async (t) => {
  const sink = capture();
  const fx = await startOpsFixture(t, { logger: createLogger("info", sink), brokenQuery: "?token=s3cr3t" });
  assert.equal(await fx.post("test/broken/x", "TOPSECRETBODY"), 202);
  const [stored] = fx.runtime.store.messages.forAddress({ fn: "test/broken", id: "x" });
  await until(
    "test/broken/x to be suspended",
    () => fx.runtime.dispatcher.suspendedAddresses().length === 1,
    POLL,
  );
  fx.runtime.dispatcher.retryNow({ fn: "test/broken", id: "x" });
  await until(
    "a second failure",
    () => (fx.runtime.dispatcher.suspendedAddresses()[0]?.failures ?? 0) >= 2,
    POLL,
  );

  const failures = sink.lines.filter(
    (line) => line.level === 50 && String(line.msg).startsWith("batch failed"),
  );
  assert.equal(
    failures.length,
    fx.runtime.dispatcher.suspendedAddresses()[0]?.failures,
    "one line per failure",
  );
  for (const line of failures) {
    assert.equal(line.address, "test/broken/x");
    assert.equal(line.invocationId, String(stored?.seq));
    assert.equal(line.endpoint, "test/broken");
    assert.equal(line.code, "SB_TRANSPORT_DEADLINE_EXCEEDED");
  }
  const everything = sink.raw.join("");
  assert.doesNotMatch(everything, /s3cr3t/);
  assert.doesNotMatch(everything, /TOPSECRETBODY/);
  const suspended = await (await fetch(`${fx.admin}/api/suspended`)).text();
  assert.doesNotMatch(suspended, /s3cr3t/, "the admin API shows the scrubbed message too");
  const functions = await (await fetch(`${fx.admin}/api/functions`)).text();
  assert.doesNotMatch(functions, /s3cr3t/, "configured URLs are scrubbed in the admin API");
});

test("webhook delivery failures log the code, never the record body, the receiver's token or URL secrets", async (t) => {
  const dir = tempDir(t);
  const sink = capture();
  const hook = createServer((request, response) => {
    request.resume();
    request.on("end", () => response.writeHead(400).end());
  });
  await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => hook.close(() => resolve())));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/events?key=hunter3`;
  const auditor = new ProtocolFunction([], (_state, invocation, effects) => {
    effects.egress.push({ egressNamespace: "test", egressType: "audit", argument: invocation.argument });
  });
  const server = await startFunctionServer({ "test/auditor": auditor });
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
      "kind: io.switchboard.v1/webhook-egress",
      "spec:",
      "  id: test/audit",
      `  url: ${hookUrl}`,
      "  headers: { authorization: Bearer hunter2 }",
      "",
    ].join("\n"),
  );
  const runtime = await Runtime.start({
    modules: [file],
    dataDir: join(dir, "data"),
    logger: createLogger("info", sink),
  });
  t.after(() => runtime.stop());
  await runtime.dispatcher.accept({
    target: { fn: "test/auditor", id: "a" },
    argument: { typename: "test/Secret", hasValue: true, value: Buffer.from("RECORDBODY") },
  });
  await until(
    "a failed delivery",
    () => sink.lines.some((line) => line.msg === "egress delivery failed; will retry"),
    POLL,
  );
  const line = sink.lines.find((entry) => entry.msg === "egress delivery failed; will retry");
  assert.equal(line?.egress, "test/audit");
  assert.equal(line?.code, "SB_TRANSPORT_HTTP_STATUS");
  const everything = sink.raw.join("");
  assert.doesNotMatch(everything, /hunter2|hunter3|RECORDBODY/);
});

test("the logger redacts credentials and bodies whoever logs them, and reads well on a terminal", () => {
  const sink = capture();
  const logger = createLogger("info", sink);
  logger.info(
    { headers: { authorization: "Bearer x1", accept: "*/*" }, body: "b1", request: { value: "v1" } },
    "hello",
  );
  assert.deepEqual(sink.lines[0]?.headers, { authorization: "[redacted]", accept: "*/*" });
  assert.equal(sink.lines[0]?.body, "[redacted]");
  assert.deepEqual(sink.lines[0]?.request, { value: "[redacted]" });

  const printed: string[] = [];
  const pretty = prettyLogStream({ write: (text: string) => printed.push(text) });
  pretty.write(
    JSON.stringify({
      level: 50,
      time: Date.UTC(2026, 10, 23, 12, 0, 1),
      msg: "batch failed",
      address: "a/b/c",
      code: "SB_X",
    }),
  );
  assert.equal(printed[0], "12:00:01 ERROR batch failed  address=a/b/c code=SB_X\n");
});
