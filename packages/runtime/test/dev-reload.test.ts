import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { DevSupervisor } from "../src/dev/dev-supervisor.js";
import type { ReloadReport } from "../src/dev/reload-runtime.js";
import { startFunctionServer } from "./support/function-server.js";
import { ProtocolFunction } from "./support/protocol-function.js";

const repoRoot = new URL("../../../", import.meta.url).pathname;
const cli = new URL("../src/cli/main.ts", import.meta.url).pathname;

/**
 * A project directory inside the repository (its tmp/ is git-ignored), so the function
 * modules written there resolve `@switchboard/sdk` the way a user's project does.
 */
function projectDir(t: TestContext): string {
  const parent = join(repoRoot, "tmp");
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, "dev-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function webModule(answer: string): string {
  return [
    `import { webFunction } from "@switchboard/sdk";`,
    `export const hello = webFunction({ name: "hello", handler: () => ${JSON.stringify(answer)} });`,
    "",
  ].join("\n");
}

function counterModule(version: string): string {
  return [
    `import { INT, playgroundEgressMessage, StatefulFunctions, valueSpec } from "@switchboard/sdk";`,
    `const COUNT = valueSpec("count", INT);`,
    "export const functions = new StatefulFunctions().register({",
    `  typename: "demo/counter",`,
    "  specs: [COUNT],",
    "  fn: (context) => {",
    "    const count = (context.storage.get(COUNT) ?? 0) + 1;",
    "    context.storage.set(COUNT, count);",
    `    context.sendEgress(playgroundEgressMessage("counts", ${JSON.stringify(version)} + ":" + count));`,
    "  },",
    "});",
    "",
  ].join("\n");
}

const WEB_YAML = [
  "kind: io.switchboard.functions.v1/module",
  "spec: { module: ./hello.ts, workers: 1 }",
  "---",
  "kind: io.switchboard.functions.v1/web",
  "spec: { port: 0 }",
  "---",
  "kind: io.statefun.playground.v1/ingress",
  "spec: { port: 0 }",
  "",
].join("\n");

async function startDev(t: TestContext, dir: string, lines: string[]): Promise<DevSupervisor> {
  const dev = await DevSupervisor.start({
    modules: [join(dir, "module.yaml")],
    dataDir: join(dir, "data"),
    adminPort: 0,
    durability: "normal",
    print: (line) => lines.push(line),
  });
  t.after(() => dev.stop());
  return dev;
}

/** Polls until `read` returns what `done` accepts; bounded, generous for a loaded machine. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last saw ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function failedReport(dev: DevSupervisor): Promise<Extract<ReloadReport, { ok: false }>> {
  const report = await eventually(
    async () => dev.reports.find((candidate) => !candidate.ok),
    (found) => found !== undefined,
    "a failed reload",
  );
  return report as Extract<ReloadReport, { ok: false }>;
}

const text = async (url: string) => (await fetch(url)).text();

test("editing a web function's module changes its answer in the same process, on the same ports", async (t) => {
  const dir = projectDir(t);
  writeFileSync(join(dir, "hello.ts"), webModule("v1"));
  writeFileSync(join(dir, "module.yaml"), WEB_YAML);
  const lines: string[] = [];
  const dev = await startDev(t, dir, lines);
  const { runtime } = dev;
  const url = `${runtime.host.listeners[0]?.url}/functions/hello`;
  const [adminUrl, ingressPort] = [runtime.ops.adminUrl, runtime.ingresses[0]?.port];
  assert.equal(await text(url), "v1");
  assert.ok(dev.watching.includes(dir), `watches the project directory (${dev.watching.join(", ")})`);

  writeFileSync(join(dir, "hello.ts"), webModule("v2"));
  await eventually(
    () => text(url),
    (answer) => answer === "v2",
    "the edited answer",
  );

  assert.equal(dev.runtime, runtime, "the same runtime");
  assert.equal(runtime.ops.adminUrl, adminUrl);
  assert.equal(runtime.ingresses[0]?.port, ingressPort);
  assert.equal(runtime.host.modules.length, 1, "the old pool is replaced, not kept beside the new one");
  assert.ok(
    lines.some((line) => /hello\.ts.*reloaded in \d+ ms \(module .*hello\.ts \(new workers\)\)/.test(line)),
    lines.join("\n"),
  );
});

test("a client polling over keep-alive through several reloads sees no failed request", async (t) => {
  const dir = projectDir(t);
  writeFileSync(join(dir, "hello.ts"), webModule("v0"));
  writeFileSync(join(dir, "module.yaml"), WEB_YAML);
  const dev = await startDev(t, dir, []);
  const listener = dev.runtime.host.listeners[0];
  assert.ok(listener);
  // On Node 22.12+/24 the worker path would close listening sockets of a shared port on each
  // reload, and the kernel resets the connections queued on them.
  assert.equal(listener.path, "main", "dev serves web functions from the main thread");
  const url = `${listener.url}/functions/hello`;
  const failures: string[] = [];
  let answers = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      try {
        await text(url);
        answers += 1;
      } catch (error) {
        failures.push(String((error as Error).cause ?? error));
      }
    }
  })();
  t.after(() => {
    polling = false;
  });
  for (const version of ["v1", "v2", "v3"]) {
    writeFileSync(join(dir, "hello.ts"), webModule(version));
    await eventually(
      () => text(url),
      (answer) => answer === version,
      `the answer ${version}`,
    );
  }
  polling = false;
  await poller;
  assert.deepEqual(failures, [], `${failures.length} of ${answers + failures.length} requests failed`);
  assert.ok(answers > 0);
});

test("editing a file the module imports from a subdirectory reloads the module", async (t) => {
  const dir = projectDir(t);
  mkdirSync(join(dir, "lib"));
  writeFileSync(join(dir, "lib", "answer.ts"), `export const answer = "from lib v1";\n`);
  writeFileSync(
    join(dir, "hello.ts"),
    [
      `import { webFunction } from "@switchboard/sdk";`,
      `import { answer } from "./lib/answer.ts";`,
      `export const hello = webFunction({ name: "hello", handler: () => answer });`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "module.yaml"), WEB_YAML);
  const dev = await startDev(t, dir, []);
  assert.ok(dev.watching.includes(join(dir, "lib")), dev.watching.join(", "));
  const url = `${dev.runtime.host.listeners[0]?.url}/functions/hello`;
  assert.equal(await text(url), "from lib v1");
  writeFileSync(join(dir, "lib", "answer.ts"), `export const answer = "from lib v2";\n`);
  await eventually(
    () => text(url),
    (answer) => answer === "from lib v2",
    "the imported file's new value",
  );
});

test("a web request in flight during a reload finishes on the version it started on", async (t) => {
  const dir = projectDir(t);
  const slowModule = (answer: string) =>
    [
      `import { webFunction } from "@switchboard/sdk";`,
      "export const slow = webFunction({",
      `  name: "slow",`,
      `  handler: async () => { await new Promise((resolve) => setTimeout(resolve, 1500)); return ${JSON.stringify(answer)}; },`,
      "});",
      "",
    ].join("\n");
  writeFileSync(join(dir, "hello.ts"), slowModule("slow v1"));
  writeFileSync(join(dir, "module.yaml"), WEB_YAML);
  const dev = await startDev(t, dir, []);
  const url = `${dev.runtime.host.listeners[0]?.url}/functions/slow`;
  assert.equal(await text(url), "slow v1", "warm-up");

  const before = dev.reports.length;
  const inFlight = text(url);
  await new Promise((resolve) => setTimeout(resolve, 200));
  writeFileSync(join(dir, "hello.ts"), slowModule("slow v2"));
  const report = await dev.reloaded(before + 1);
  assert.ok(report.ok, JSON.stringify(report));
  assert.equal(await inFlight, "slow v1");
  await eventually(
    () => text(url),
    (answer) => answer === "slow v2",
    "the new version",
  );
});

test("a stateful hosted function keeps its state and queued messages across an edit", async (t) => {
  const dir = projectDir(t);
  writeFileSync(join(dir, "counter.ts"), counterModule("v1"));
  writeFileSync(
    join(dir, "module.yaml"),
    [
      "kind: io.switchboard.functions.v1/module",
      "spec: { module: ./counter.ts, workers: 1 }",
      "---",
      "kind: io.statefun.playground.v1/ingress",
      "spec: { port: 0 }",
      "---",
      "kind: io.statefun.playground.v1/egress",
      "spec: { port: 0, topics: [counts] }",
      "",
    ].join("\n"),
  );
  const dev = await startDev(t, dir, []);
  const { runtime } = dev;
  const ingress = `${runtime.ingresses[0]?.url}/demo/counter/a`;
  const egressPort = (runtime.egresses[0] as unknown as { port: number }).port;
  const send = async () => {
    const response = await fetch(ingress, { method: "POST", body: "tick" });
    assert.equal(response.status, 202);
  };
  const counts: string[] = [];
  const drainEgress = async () => {
    for (;;) {
      const response = await fetch(`http://127.0.0.1:${egressPort}/counts`);
      if (response.status === 404) return counts;
      counts.push(await response.text());
    }
  };

  for (let i = 0; i < 3; i++) await send();
  await runtime.dispatcher.settled();
  assert.deepEqual(await drainEgress(), ["v1:1", "v1:2", "v1:3"]);

  // Messages accepted while the edit is being picked up stay queued and are all applied.
  const before = dev.reports.length;
  writeFileSync(join(dir, "counter.ts"), counterModule("v2"));
  for (let i = 0; i < 20; i++) await send();
  await dev.reloaded(before + 1);
  for (let i = 0; i < 20; i++) await send();
  await runtime.dispatcher.settled();
  await drainEgress();

  assert.equal(counts.length, 43, "every accepted message was applied once");
  assert.deepEqual(
    counts.map((entry) => Number(entry.split(":")[1])),
    Array.from({ length: 43 }, (_, i) => i + 1),
    "the count continued from its stored value",
  );
  assert.equal(counts.at(-1), "v2:43", "the new version serves after the reload");
  const firstV2 = counts.findIndex((entry) => entry.startsWith("v2:"));
  assert.ok(
    counts.slice(firstV2).every((entry) => entry.startsWith("v2:")),
    "no old version after the new one",
  );
});

test("a module with a syntax error is reported with file:line and the old version keeps answering", async (t) => {
  const dir = projectDir(t);
  writeFileSync(join(dir, "hello.ts"), webModule("v1"));
  writeFileSync(join(dir, "module.yaml"), WEB_YAML);
  const lines: string[] = [];
  const dev = await startDev(t, dir, lines);
  const url = `${dev.runtime.host.listeners[0]?.url}/functions/hello`;

  writeFileSync(join(dir, "hello.ts"), `${webModule("broken")}export const oops = (;\n`);
  const report = await failedReport(dev);
  assert.match(report.error, /SB_HOST_MODULE_LOAD_FAILED|could not be loaded/);
  assert.match(report.error, /hello\.ts:3:\d+/, report.error);
  assert.ok(lines.some((line) => line.includes("still serving the previous version")));
  assert.equal(await text(url), "v1");

  writeFileSync(join(dir, "hello.ts"), webModule("v3"));
  await eventually(
    () => text(url),
    (answer) => answer === "v3",
    "the fixed module's answer",
  );
});

test("a module that throws while loading is reported with the line it threw at", async (t) => {
  const dir = projectDir(t);
  writeFileSync(join(dir, "hello.ts"), webModule("v1"));
  writeFileSync(join(dir, "module.yaml"), WEB_YAML);
  const dev = await startDev(t, dir, []);
  const url = `${dev.runtime.host.listeners[0]?.url}/functions/hello`;

  writeFileSync(join(dir, "hello.ts"), `${webModule("v2")}\nthrow new Error("no config");\n`);
  const report = await failedReport(dev);
  assert.match(report.error, /no config \(at .*hello\.ts:4:\d+\)/, report.error);
  assert.equal(await text(url), "v1");
});

test("an invalid YAML edit is reported with line:col and the old configuration keeps serving", async (t) => {
  const dir = projectDir(t);
  writeFileSync(join(dir, "hello.ts"), webModule("v1"));
  writeFileSync(join(dir, "module.yaml"), WEB_YAML);
  const dev = await startDev(t, dir, []);
  const url = `${dev.runtime.host.listeners[0]?.url}/functions/hello`;

  writeFileSync(
    join(dir, "module.yaml"),
    WEB_YAML.replace(
      "spec: { module: ./hello.ts, workers: 1 }",
      "spec: { module: ./hello.ts, workers: many }",
    ),
  );
  const report = await failedReport(dev);
  assert.match(report.error, /module\.yaml:2:\d+/, report.error);
  assert.match(report.error, /workers/);
  assert.equal(await text(url), "v1");
  assert.equal(dev.runtime.config.components.length, 3, "the previous configuration is still the live one");
});

test("a listener whose spec changed is restarted alone; the ingress and the module keep running", async (t) => {
  const dir = projectDir(t);
  writeFileSync(join(dir, "hello.ts"), webModule("v1"));
  writeFileSync(join(dir, "module.yaml"), WEB_YAML);
  const dev = await startDev(t, dir, []);
  const { runtime } = dev;
  const [ingress, pool] = [runtime.ingresses[0], runtime.host.modules[0]?.pool];
  const before = dev.reports.length;
  writeFileSync(
    join(dir, "module.yaml"),
    WEB_YAML.replace(
      "kind: io.switchboard.functions.v1/web\nspec: { port: 0 }",
      "kind: io.switchboard.functions.v1/web\nspec: { port: 0, maxBodyBytes: 16 }",
    ),
  );
  const report = await dev.reloaded(before + 1);
  assert.ok(report.ok, JSON.stringify(report));
  assert.deepEqual(
    report.changes.map((change) => change.replace(/http:\S+/, "URL")),
    ["web listener URL (restarted)"],
  );
  assert.equal(runtime.ingresses[0], ingress);
  assert.equal(runtime.host.modules[0]?.pool, pool);
  const url = `${runtime.host.listeners[0]?.url}/functions/hello`;
  assert.equal(await text(url), "v1");
  const tooBig = await fetch(url, { method: "POST", body: "x".repeat(100) });
  assert.equal(tooBig.status, 413, "the new spec is in force");
});

test("adding an endpoint to the module YAML makes its functions reachable", async (t) => {
  const dir = projectDir(t);
  writeFileSync(join(dir, "hello.ts"), webModule("v1"));
  writeFileSync(join(dir, "module.yaml"), WEB_YAML);
  const counter = new ProtocolFunction([]);
  const server = await startFunctionServer({ "remote/counter": counter });
  t.after(() => server.close());
  const dev = await startDev(t, dir, []);
  const { runtime } = dev;
  const ingress = `${runtime.ingresses[0]?.url}/remote/counter/a`;
  assert.equal((await fetch(ingress, { method: "POST", body: "x" })).status, 404);
  const pool = runtime.host.modules[0]?.pool;

  writeFileSync(
    join(dir, "module.yaml"),
    [
      WEB_YAML,
      "---",
      "kind: io.statefun.endpoints.v2/http",
      "spec:",
      "  functions: remote/*",
      `  urlPathTemplate: ${server.url}/{function.name}`,
      "",
    ].join("\n"),
  );
  await eventually(
    async () => (await fetch(ingress, { method: "POST", body: "x" })).status,
    (status) => status === 202,
    "the new endpoint to accept messages",
  );
  await runtime.dispatcher.settled();
  assert.ok(counter.seen.length > 0, "the remote function was invoked");
  assert.ok(runtime.config.router.tryResolve("remote/counter"), "the live configuration routes it");
  assert.equal(await text(`${runtime.host.listeners[0]?.url}/functions/hello`), "v1");
  assert.equal(runtime.host.modules[0]?.pool, pool, "an unchanged module keeps its workers");
});

test("when the first start fails, dev prints why and starts once the mistake is fixed", async (t) => {
  const dir = projectDir(t);
  writeFileSync(join(dir, "hello.ts"), webModule("v1"));
  writeFileSync(join(dir, "module.yaml"), WEB_YAML.replace("workers: 1", "workers: 0"));
  const lines: string[] = [];
  const dev = await startDev(t, dir, lines);
  assert.equal(dev.running, false);
  assert.ok(
    lines.some((line) => /start failed/.test(line) && /module\.yaml:2:\d+/.test(line)),
    lines.join("\n"),
  );

  writeFileSync(join(dir, "module.yaml"), WEB_YAML);
  await eventually(
    async () => dev.running,
    (running) => running,
    "the runtime to start",
  );
  assert.equal(await text(`${dev.runtime.host.listeners[0]?.url}/functions/hello`), "v1");
});

test("switchboard dev as a child process prints where it listens and serves an edit over HTTP", async (t) => {
  const dir = projectDir(t);
  writeFileSync(join(dir, "hello.ts"), webModule("from v1"));
  writeFileSync(join(dir, "module.yaml"), WEB_YAML);
  const child = spawn(
    process.execPath,
    [
      "--conditions=development",
      "--import",
      "tsx",
      cli,
      "dev",
      join(dir, "module.yaml"),
      "--admin-port",
      "0",
      "--data-dir",
      join(dir, "data"),
    ],
    {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, SWITCHBOARD_LOG_LEVEL: "warn" },
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });

  const listening = await eventually(
    async () => /web\s+(http:\/\/\S+)\/functions\/<name>/.exec(stdout)?.[1],
    (found) => found !== undefined || child.exitCode !== null,
    "the web listener line",
  );
  assert.ok(listening, `dev did not start: ${stdout}\n${stderr}`);
  assert.match(stdout, new RegExp(`watching\\s+${dir}`));
  const url = `${listening}/functions/hello`;
  assert.equal(await text(url), "from v1");

  writeFileSync(join(dir, "hello.ts"), webModule("from v2"));
  await eventually(
    () => text(url),
    (answer) => answer === "from v2",
    "the edited answer over HTTP",
  );
  await eventually(
    async () => stdout,
    (out) => /reloaded in \d+ ms/.test(out),
    "the reload line",
  );

  child.kill("SIGTERM");
  assert.equal(await exited, 0, stderr);
});
