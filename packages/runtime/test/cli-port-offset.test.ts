import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { allComponentKinds } from "../src/config/all-component-kinds.js";
import { loadModules } from "../src/config/load-modules.js";
import { offsetListenerPorts, parsePortOffset } from "../src/config/port-offset.js";
import { SwitchboardError } from "../src/errors/index.js";
import { spawnCli } from "./support/cli-child.js";
import { UNREACHABLE_TEST_ENDPOINT, writeModuleYaml } from "./support/module-yaml.js";
import { freePort } from "./support/redis-process.js";
import { tempDir } from "./support/temp-dir.js";

function listenerYaml(ingressPort: number, egressPort: number, webPort: number): string[] {
  return [
    UNREACHABLE_TEST_ENDPOINT,
    `kind: io.statefun.playground.v1/ingress\nspec: { port: ${ingressPort} }`,
    `kind: io.statefun.playground.v1/egress\nspec: { port: ${egressPort}, topics: [out] }`,
    `kind: io.switchboard.functions.v1/web\nspec: { port: ${webPort} }`,
  ];
}

const portsOf = (result: Awaited<ReturnType<typeof loadModules>>) => {
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
  return result.config.components.map((component) => (component.spec as { port?: number }).port);
};

test("--port-offset moves every listen port of the module YAML by N and leaves port 0 alone", async (t) => {
  const file = writeModuleYaml(tempDir(t), ...listenerYaml(8090, 0, 8092));
  const loaded = await loadModules([file], allComponentKinds());
  assert.deepEqual(portsOf(loaded), [8090, 0, 8092]);
  assert.deepEqual(portsOf(offsetListenerPorts(loaded, 10)), [8100, 0, 8102]);
  assert.equal(offsetListenerPorts(loaded, 0), loaded);
});

test("a port pushed past 65535 by the offset is a configuration error at its file:line:col", async (t) => {
  const file = writeModuleYaml(tempDir(t), ...listenerYaml(8090, 65000, 0));
  const result = offsetListenerPorts(await loadModules([file], allComponentKinds()), 600);
  assert.equal(result.ok, false);
  assert.ok(!result.ok);
  assert.deepEqual(
    result.errors.map((error) => [error.code, error.message, error.source.file]),
    [["SB_CONFIG_PORT_OUT_OF_RANGE", "port 65000 plus --port-offset 600 is 65600, above 65535", file]],
  );
  assert.ok(result.errors[0] && result.errors[0].source.line > 1);
});

test("--port-offset must be a whole number from 0 to 65535", () => {
  assert.equal(parsePortOffset(undefined), 0);
  assert.equal(parsePortOffset("100"), 100);
  for (const bad of ["", "-1", "1.5", "ten", "70000"]) {
    assert.throws(
      () => parsePortOffset(bad),
      (error: unknown) => error instanceof SwitchboardError && error.code === "SB_CLI_BAD_PORT_OFFSET",
      bad,
    );
  }
});

test("switchboard run --port-offset serves the ingress and the admin port N ports up", async (t) => {
  const dir = tempDir(t);
  const offset = 7;
  const ingressPort = (await freePort()) - offset;
  const adminPort = (await freePort()) - offset;
  const file = writeModuleYaml(
    dir,
    UNREACHABLE_TEST_ENDPOINT,
    `kind: io.statefun.playground.v1/ingress\nspec: { port: ${ingressPort} }`,
  );
  const run = spawnCli(t, [
    "run",
    file,
    "--data-dir",
    join(dir, "data"),
    "--admin-port",
    String(adminPort),
    "--port-offset",
    String(offset),
  ]);
  await run.waitFor(/switchboard is running/, "the runtime to start");
  const [stdout, stderr] = [run.stdout(), run.stderr()];
  assert.match(stdout, new RegExp(`ingress\\s+http://127\\.0\\.0\\.1:${ingressPort + offset}/`), stderr);
  assert.match(stdout, new RegExp(`admin\\s+http://127\\.0\\.0\\.1:${adminPort + offset}/`));
  const health = await fetch(`http://127.0.0.1:${adminPort + offset}/healthz`);
  assert.equal(health.status, 200);
  await health.arrayBuffer();
  run.process.kill("SIGTERM");
  assert.equal(await run.exited, 0);
});

test("switchboard run refuses an offset that pushes the admin port or a YAML port past 65535, with no stack trace", async (t) => {
  const dir = tempDir(t);
  const file = writeModuleYaml(
    dir,
    UNREACHABLE_TEST_ENDPOINT,
    "kind: io.statefun.playground.v1/ingress\nspec: { port: 65000 }",
  );
  for (const [args, message] of [
    [
      ["--admin-port", "65500", "--port-offset", "100"],
      /--admin-port 65500 plus --port-offset 100 is 65600, above 65535/,
    ],
    [
      ["--no-admin", "--port-offset", "1000"],
      /module\.yaml:\d+:\d+.*port 65000 plus --port-offset 1000 is 66000, above 65535/,
    ],
    [
      ["--no-admin", "--port-offset", "lots"],
      /--port-offset must be a whole number from 0 to 65535, not lots/,
    ],
  ] as const) {
    const run = spawnCli(t, ["run", file, "--data-dir", join(dir, "data"), ...args]);
    const code = await run.exited;
    const [stdout, stderr] = [run.stdout(), run.stderr()];
    assert.equal(code, 1, `${args.join(" ")}: ${stdout}`);
    assert.match(stderr, message);
    assert.doesNotMatch(stderr, /^\s+at /m);
  }
});
