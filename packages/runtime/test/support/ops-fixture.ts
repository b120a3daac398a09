import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { Logger } from "../../src/dispatch/logger.js";
import { Runtime } from "../../src/runtime.js";
import { type FunctionServer, startFunctionServer } from "./function-server.js";
import { countInvocations, decodeInt, encodeInt, INT, ProtocolFunction } from "./protocol-function.js";
import { tempDir } from "./temp-dir.js";

export const PROFILE_TYPE = "example/Profile";
const RECORD = "io.statefun.playground/EgressRecord";

export interface OpsFixture {
  readonly runtime: Runtime;
  readonly admin: string;
  readonly ingress: string;
  readonly functions: FunctionServer;
  /** Sends one message through the playground ingress; resolves with the HTTP status. */
  post(path: string, body?: string, contentType?: string): Promise<number>;
  /** The store directory, to reopen after a restart. */
  readonly dataDir: string;
}

/** A server that accepts requests and never answers them (read timeouts). */
async function startSilentServer(t: TestContext): Promise<string> {
  const server: Server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * A runtime with an admin server on a loopback port and a realistic set of functions:
 * test/counter (int state, an egress record per message), test/timer (schedules a delayed
 * message an hour out), test/profile (JSON and int state) on one loopback function server,
 * and test/broken on a server that never answers (read timeouts, retries, call deadline,
 * suspension; maxNumBatchRequests 2).
 */
export async function startOpsFixture(
  t: TestContext,
  options: {
    maxInFlight?: number;
    logger?: Logger;
    /** Reuse a store (a restart). */
    dataDir?: string;
    /** Route test/broken to the working function server (where it counts like test/counter). */
    brokenWorks?: boolean;
    /** Appended to test/broken's URL (a query string carrying a secret, for log tests). */
    brokenQuery?: string;
  } = {},
): Promise<OpsFixture> {
  const dir = tempDir(t);
  const counter = new ProtocolFunction([{ name: "count", typename: INT }], (state, invocation, effects) => {
    countInvocations(state, invocation, effects);
    effects.egress.push({
      egressNamespace: "io.statefun.playground",
      egressType: "egress",
      argument: {
        typename: RECORD,
        hasValue: true,
        value: Buffer.from(
          JSON.stringify({ topic: "counts", payload: String(decodeInt(state.get("count"))) }),
        ),
      },
    });
  });
  const timer = new ProtocolFunction([], (_state, invocation, effects) => {
    effects.delayed.push({
      delayInMs: 3_600_000n,
      cancellationToken: `reminder-${invocation.caller?.id ?? "x"}`,
      target: { namespace: "test", type: "counter", id: "reminded" },
      argument: { typename: INT, hasValue: true, value: encodeInt(1) },
    });
  });
  const profile = new ProtocolFunction(
    [
      { name: "profile", typename: PROFILE_TYPE },
      { name: "visits", typename: INT },
    ],
    (state, invocation) => {
      const visits = decodeInt(state.get("visits")) + 1;
      state.set("visits", encodeInt(visits));
      const name = Buffer.from(invocation.argument?.value ?? new Uint8Array()).toString("utf8");
      state.set("profile", Buffer.from(JSON.stringify({ name, visits })));
    },
  );
  const functions = await startFunctionServer({
    "test/counter": counter,
    "test/timer": timer,
    "test/profile": profile,
    "test/broken": new ProtocolFunction([{ name: "count", typename: INT }]),
  });
  t.after(() => functions.close());
  const silent = await startSilentServer(t);
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    [
      "kind: io.statefun.endpoints.v2/http",
      "spec:",
      "  functions: test/*",
      `  urlPathTemplate: ${functions.url}/{function.name}`,
      "  transport:",
      "    type: io.statefun.transports.v1/async",
      "    call: 5s",
      "---",
      "kind: io.statefun.endpoints.v2/http",
      "spec:",
      "  functions: test/broken",
      `  urlPathTemplate: ${options.brokenWorks ? functions.url : silent}/{function.name}${options.brokenQuery ?? ""}`,
      "  maxNumBatchRequests: 2",
      "  transport:",
      "    timeouts: { call: 400ms, read: 60ms, connect: 200ms, write: 200ms }",
      "---",
      "kind: io.statefun.playground.v1/ingress",
      "spec: { port: 0 }",
      "---",
      "kind: io.statefun.playground.v1/egress",
      "spec: { port: 0, topics: [counts] }",
      "",
    ].join("\n"),
  );
  const dataDir = options.dataDir ?? join(dir, "data");
  const runtime = await Runtime.start({
    modules: [file],
    dataDir,
    adminPort: 0,
    ...(options.maxInFlight !== undefined ? { maxInFlight: options.maxInFlight } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  t.after(() => runtime.stop(2000));
  const ingress = runtime.ingresses[0]?.url as string;
  return {
    runtime,
    admin: runtime.ops.adminUrl as string,
    ingress,
    functions,
    dataDir,
    async post(path, body = "hi", contentType) {
      const response = await fetch(`${ingress}/${path}`, {
        method: "POST",
        body,
        ...(contentType ? { headers: { "content-type": contentType } } : {}),
      });
      await response.arrayBuffer();
      return response.status;
    },
  };
}
