import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { promisify } from "node:util";
import { initProject } from "../src/cli/init-command.js";
import { Store } from "../src/store/store.js";
import { decodeInt } from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";
import { until } from "./support/until.js";

const run = promisify(execFile);
const REPO = new URL("../../../", import.meta.url).pathname;
const CLI = join(REPO, "packages/runtime/src/cli/main.ts");
const DEV = ["--conditions=development", "--import", "tsx"];

/** A project made by `switchboard init`, with the checkout's node_modules standing in for `npm install`. */
async function initialised(t: TestContext): Promise<string> {
  const dir = join(tempDir(t), "my app");
  const { stdout } = await run(process.execPath, [...DEV, CLI, "init", "--link", dir], { cwd: REPO });
  assert.match(stdout, /created .*module\.yaml/);
  assert.match(stdout, /npm install\n {2}npm start {5}\(or: npm run dev, npm test\)/);
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

interface ProjectManifest {
  name: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

function manifestOf(dir: string): ProjectManifest {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as ProjectManifest;
}

test("switchboard init writes a project that depends on the published packages at this version", (t) => {
  const dir = join(tempDir(t), "Fresh Project");
  const { files } = initProject(dir);
  assert.deepEqual(files.sort(), [
    ".gitignore",
    "README.md",
    "functions.ts",
    "module.yaml",
    "package.json",
    "test/functions.test.ts",
    "tsconfig.json",
  ]);
  const manifest = manifestOf(dir);
  const { version } = JSON.parse(readFileSync(join(REPO, "packages/runtime/package.json"), "utf8")) as {
    version: string;
  };
  assert.equal(manifest.name, "fresh-project");
  assert.equal(manifest.dependencies["@switchboard/sdk"], `^${version}`);
  assert.equal(manifest.dependencies.switchboard, `^${version}`);
  assert.ok(manifest.dependencies.zod, "zod, which the web-function docs import");
  assert.ok(manifest.devDependencies.typescript && manifest.devDependencies["@types/node"]);
  assert.deepEqual(manifest.scripts, {
    start: "exec switchboard run module.yaml",
    dev: "exec switchboard dev module.yaml",
    test: "node --import tsx --test --test-reporter=spec test/*.test.ts",
    typecheck: "tsc",
    validate: "switchboard validate module.yaml",
  });
  const readme = readFileSync(join(dir, "README.md"), "utf8");
  assert.match(readme, /npm install\nnpm start .*\nnpm run dev .*switchboard dev module\.yaml/);
  assert.match(readme, /--admin-port/);
  assert.doesNotMatch(readme, /file:|checkout/);
});

test("switchboard init --link points the project at this checkout by absolute file: paths", (t) => {
  const dir = join(tempDir(t), "linked");
  initProject(dir, { link: true });
  const manifest = manifestOf(dir);
  assert.equal(manifest.dependencies["@switchboard/sdk"], `file:${join(REPO, "packages/sdk")}`);
  assert.equal(manifest.dependencies.switchboard, `file:${join(REPO, "packages/runtime")}`);
  assert.match(manifest.scripts.dev ?? "", /node_modules\/switchboard\/src\/cli\/main\.ts dev module\.yaml$/);
  assert.match(readFileSync(join(dir, "README.md"), "utf8"), /switchboard init --link/);
});

test("switchboard init refuses a directory that is not empty and writes nothing", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "keep.txt"), "mine");
  await assert.rejects(
    run(process.execPath, [...DEV, CLI, "init", dir], { cwd: REPO }),
    (error: Error & { stderr: string; code: number }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /is not empty; switchboard init writes only into a new or empty directory/);
      return true;
    },
  );
  assert.equal(existsSync(join(dir, "module.yaml")), false);
  assert.throws(() => initProject(dir), { code: "SB_CLI_INIT_NOT_EMPTY" });
});

test("the new project's tests pass and its module.yaml validates", async (t) => {
  const dir = await initialised(t);
  const manifest = manifestOf(dir);
  // `npm test`, without npm: the script as the shell would run it.
  // Without NODE_TEST_CONTEXT, the nested runner reports to stdout instead of to this one.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const tested = await run("/bin/sh", ["-c", manifest.scripts.test ?? ""], { cwd: dir, env });
  assert.match(tested.stdout, /ℹ pass 2/);
  assert.match(tested.stdout, /ℹ fail 0/);
  const validated = await run(process.execPath, [...DEV, CLI, "validate", join(dir, "module.yaml")], {
    cwd: REPO,
  });
  assert.match(validated.stdout, /ok: 0 endpoints, 4 other components/);
});

test("the new project type-checks with its tsconfig", async (t) => {
  const dir = await initialised(t);
  const tsc = join(REPO, "node_modules/typescript/bin/tsc");
  const checked = await run(process.execPath, [tsc, "-p", dir]).catch((error: { stdout: string }) => error);
  assert.equal(checked.stdout, "", "tsc reports nothing");
});

test("the new project runs under switchboard run: a message reaches the egress and a web request is answered", async (t) => {
  const dir = await initialised(t);
  // Fixed ports are for users; the test takes free ones.
  const yaml = join(dir, "module.yaml");
  writeFileSync(yaml, readFileSync(yaml, "utf8").replace(/port: 809[012]/g, "port: 0"));
  const child: ChildProcess = spawn(
    process.execPath,
    [...DEV, CLI, "run", "module.yaml", "--no-admin", "--data-dir", join(dir, ".switchboard")],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SWITCHBOARD_LOG_LEVEL: "warn" } },
  );
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await until(
    "the runtime to start",
    () => stdout.includes("switchboard is running") || child.exitCode !== null,
    { timeoutMs: 60_000, intervalMs: 50 },
  );
  const ingress = /ingress\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(stdout)?.[1];
  const web = /web\s+(http:\/\/127\.0\.0\.1:\d+)\/functions/.exec(stdout)?.[1];
  assert.ok(ingress && web, `stdout names the ingress and web URLs:\n${stdout}\n${stderr}`);

  const hello = await fetch(`${web}/functions/hello?name=Grace`);
  assert.equal(hello.status, 200);
  assert.deepEqual(await hello.json(), { greeting: "Hello, Grace!" });

  const accepted = await fetch(`${ingress}/app/counter/a`, {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: "hi",
  });
  assert.equal(accepted.status, 202, await accepted.text());
  child.kill("SIGTERM");
  assert.equal(await exited, 0, stderr);
  // The runtime drained before exit: the message was applied and its egress record stored.
  const store = Store.open(join(dir, ".switchboard"));
  t.after(() => store.close());
  const count = store.state.read({ fn: "app/counter", id: "a" }, Date.now()).get("count")?.value;
  assert.equal(decodeInt(count), 1);
});
