/**
 * `--advertise-host` / SWITCHBOARD_ADVERTISE_HOST: the host a cluster instance writes to its
 * members row, for other instances to reach its admin server. Checked before anything starts.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import { runtimeOptions } from "../src/cli/run-command.js";
import { parseAdvertiseHost } from "../src/cluster/advertise-host.js";
import { silentLogger } from "../src/dispatch/logger.js";
import { SwitchboardError } from "../src/errors/index.js";
import { Runtime } from "../src/runtime.js";
import { UNREACHABLE_TEST_ENDPOINT, writeModuleYaml } from "./support/module-yaml.js";
import { tempDir } from "./support/temp-dir.js";

const execute = promisify(execFile);
const cli = new URL("../src/cli/main.ts", import.meta.url).pathname;
/** Nothing listens on port 1: reaching the store at all would fail with SB_STORE_UNREACHABLE. */
const STORE = "postgres://switchboard@127.0.0.1:1/switchboard";
const BAD_HOSTS = [
  "",
  " ",
  "http://box1",
  "box1:8099",
  "box 1",
  "-box",
  "box1.",
  "10.0.0.300",
  "fe80::1%eth0",
  "[box1]",
];

const isBadHost = (error: unknown) =>
  error instanceof SwitchboardError && error.code === "SB_CLUSTER_BAD_ADVERTISE_HOST";

/** The flags commander gives runtimeOptions when only `extra` was passed. */
const flags = (extra: Record<string, string>) => ({
  dataDir: ".switchboard",
  durability: "full" as const,
  adminPort: "8099",
  adminHost: "127.0.0.1",
  admin: true,
  drainTimeout: "5s",
  ...extra,
});

test("--advertise-host takes a host name, an IPv4 or an IPv6 address, IPv6 with or without brackets", () => {
  for (const [given, kept] of [
    ["box1", "box1"],
    ["node-a.internal.example.com", "node-a.internal.example.com"],
    ["sb_1", "sb_1"],
    ["10.0.0.5", "10.0.0.5"],
    ["2001:db8::5", "2001:db8::5"],
    ["[2001:db8::5]", "2001:db8::5"],
    [" box1 ", "box1"],
  ]) {
    assert.equal(parseAdvertiseHost(given as string), kept);
  }
  for (const bad of BAD_HOSTS) assert.throws(() => parseAdvertiseHost(bad), isBadHost, JSON.stringify(bad));
});

test("--advertise-host reaches the runtime's cluster options; SWITCHBOARD_ADVERTISE_HOST only with a store", (t) => {
  const before = process.env.SWITCHBOARD_ADVERTISE_HOST;
  t.after(() => {
    if (before === undefined) delete process.env.SWITCHBOARD_ADVERTISE_HOST;
    else process.env.SWITCHBOARD_ADVERTISE_HOST = before;
  });
  delete process.env.SWITCHBOARD_ADVERTISE_HOST;
  const cluster = (extra: Record<string, string>) =>
    runtimeOptions(["m.yaml"], flags(extra), silentLogger).cluster;

  assert.equal(cluster({ store: STORE }), undefined, "unset: the machine's name, as before");
  assert.deepEqual(cluster({ store: STORE, advertiseHost: "[::1]" }), { advertiseHost: "::1" });
  process.env.SWITCHBOARD_ADVERTISE_HOST = "10.0.0.5";
  assert.deepEqual(cluster({ store: STORE }), { advertiseHost: "10.0.0.5" });
  assert.deepEqual(
    cluster({ store: STORE, advertiseHost: "box1" }),
    { advertiseHost: "box1" },
    "the flag wins",
  );
  assert.equal(cluster({}), undefined, "set machine-wide, the variable leaves the embedded store alone");
  process.env.SWITCHBOARD_ADVERTISE_HOST = "http://box1";
  assert.throws(() => cluster({ store: STORE }), isBadHost);
});

test("switchboard run and dev refuse a bad --advertise-host in one line, before connecting to the store", async (t) => {
  const file = writeModuleYaml(tempDir(t), UNREACHABLE_TEST_ENDPOINT);
  for (const [command, host] of [
    ["run", "http://box1:8099"],
    ["dev", "box1:8099"],
  ] as const) {
    const failed = await execute(
      process.execPath,
      [
        "--conditions=development",
        "--import",
        "tsx",
        cli,
        command,
        file,
        "--store",
        STORE,
        "--advertise-host",
        host,
      ],
      { env: { ...process.env, SWITCHBOARD_LOG_LEVEL: "warn" }, timeout: 30_000 },
    ).then(
      () => assert.fail(`${command} started`),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(failed.code, 1, command);
    assert.equal(
      failed.stderr.trim(),
      `--advertise-host must be a host name, an IPv4 address or an IPv6 address that other instances can dial, without scheme or port, not "${host}"`,
    );
  }
});

test("a runtime given a bad advertise host refuses it before it joins the cluster", async (t) => {
  const file = writeModuleYaml(tempDir(t), UNREACHABLE_TEST_ENDPOINT);
  await assert.rejects(
    Runtime.start({ modules: [file], store: STORE, cluster: { advertiseHost: "box1:8099" } }),
    isBadHost,
  );
});
