import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { promisify } from "node:util";
import { tempDir } from "./support/temp-dir.js";

const run = promisify(execFile);
const REPO = new URL("../../../", import.meta.url).pathname;
const CLI = join(REPO, "packages/runtime/src/cli/main.ts");
const DEV = ["--conditions=development", "--import", "tsx"];

/** Holds a loopback port for the test's duration, as another program would. */
async function takenPort(t: TestContext): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  assert.ok(address && typeof address === "object");
  return address.port;
}

/** `switchboard run` on this YAML and flags; it must fail to start. */
async function failedRun(t: TestContext, yaml: string, flags: string[]): Promise<string> {
  const dir = tempDir(t);
  writeFileSync(join(dir, "module.yaml"), yaml);
  const result = await run(
    process.execPath,
    [...DEV, CLI, "run", join(dir, "module.yaml"), "--data-dir", join(dir, "data"), ...flags],
    // From the checkout, where --import tsx resolves.
    { cwd: REPO, env: { ...process.env, SWITCHBOARD_LOG_LEVEL: "warn" } },
  ).then(
    () => assert.fail("switchboard run started on a taken port"),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(result.code, 1);
  return result.stderr.trim();
}

const playground = (ingress: number, egress: number) => `kind: io.statefun.playground.v1/ingress
spec:
  port: ${ingress}
---
kind: io.statefun.playground.v1/egress
spec:
  port: ${egress}
  topics: [out]
`;

test("a taken admin port is one line naming --admin-port", async (t) => {
  const port = await takenPort(t);
  const stderr = await failedRun(t, playground(0, 0), ["--admin-port", String(port)]);
  assert.equal(
    stderr,
    `admin server cannot listen on 127.0.0.1:${port}: the port is taken (EADDRINUSE); move it with --admin-port <port> (or turn it off with --no-admin)`,
  );
});

test("a taken ingress or egress port is one line naming the YAML setting that moves it", async (t) => {
  const port = await takenPort(t);
  const ingress = await failedRun(t, playground(port, 0), ["--no-admin"]);
  assert.equal(
    ingress,
    `playground ingress cannot listen on 127.0.0.1:${port}: the port is taken (EADDRINUSE); move it with \`port:\` of its io.statefun.playground.v1/ingress component in the module YAML`,
  );
  const egress = await failedRun(t, playground(0, port), ["--no-admin"]);
  assert.match(
    egress,
    /^playground egress cannot listen on .*io\.statefun\.playground\.v1\/egress component/,
  );
  assert.equal(egress.split("\n").length, 1, egress);
});
