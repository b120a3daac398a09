/**
 * What a user outside this repository gets: both packages packed by a plain `npm pack` in their
 * directories (the packages' prepack hook builds and rewrites the manifest), installed
 * into an empty directory from the tarballs plus the npm registry, then the CLI and the SDK
 * used as the README says. Slow (npm builds better-sqlite3 from source), so it is not part of
 * `npm test`: `npm run test:install`, once per CI run.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";

const exec = promisify(execFile);
const REPO = new URL("../", import.meta.url).pathname;
const NPM_QUIET: NodeJS.ProcessEnv = {
  ...process.env,
  npm_config_loglevel: "error",
  npm_config_audit: "false",
  npm_config_fund: "false",
};

let work = "";
/** Written by a plain `npm pack` in each package directory, as a user of a checkout would. */
let tarballs: { sdk: string; runtime: string };
/** Where the packages were installed from the tarballs alone, into an empty directory. */
let consumer = "";
/** A project made there by `npx switchboard init`. */
let app = "";

const PACKAGE_DIRS = { sdk: "packages/sdk", runtime: "packages/runtime" } as const;

/** Git's view of the package directories, to show that packing leaves them as they were. */
async function packageDirsStatus(): Promise<string> {
  const { stdout } = await exec(
    "git",
    ["status", "--porcelain", "--ignored", "--untracked-files=all", ...Object.values(PACKAGE_DIRS)],
    { cwd: REPO },
  );
  // The build's own output (dist/, tsbuildinfo) may appear with the first build.
  return stdout
    .split("\n")
    .filter((line) => line && !/\/dist\/|\.tsbuildinfo$|\/node_modules\//.test(line))
    .join("\n");
}

let statusBeforePacking = "";

async function npmPack(
  packageDir: string,
  destination: string,
): Promise<{ file: string; integrity: string }> {
  mkdirSync(destination, { recursive: true });
  const { stdout } = await exec("npm", ["pack", "--json", "--pack-destination", destination], {
    cwd: join(REPO, packageDir),
    env: NPM_QUIET,
  });
  const [packed] = JSON.parse(stdout) as { filename: string; integrity: string }[];
  assert.ok(packed, stdout);
  return { file: join(destination, packed.filename), integrity: packed.integrity };
}

function integrityOf(file: string): string {
  return `sha512-${createHash("sha512").update(readFileSync(file)).digest("base64")}`;
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "switchboard-install-"));
  statusBeforePacking = await packageDirsStatus();
  // One after the other: each pack rewrites its package.json until its postpack.
  const sdk = await npmPack(PACKAGE_DIRS.sdk, join(work, "tarballs"));
  const runtime = await npmPack(PACKAGE_DIRS.runtime, join(work, "tarballs"));
  tarballs = { sdk: sdk.file, runtime: runtime.file };
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test("a plain npm pack in a package directory leaves it as it was", async () => {
  assert.equal(await packageDirsStatus(), statusBeforePacking);
  for (const dir of Object.values(PACKAGE_DIRS)) {
    assert.equal(existsSync(join(REPO, dir, "LICENSE")), false, "the copied LICENSE is gone");
    assert.equal(existsSync(join(REPO, dir, ".pack-restore.json")), false);
    const manifest = readFileSync(join(REPO, dir, "package.json"), "utf8");
    assert.match(manifest, /"development":/, "the workspace keeps its development condition");
  }
});

test("npm run pack and npm publish --dry-run pack exactly what a plain npm pack does", {
  timeout: 300_000,
}, async () => {
  const { stdout } = await exec(
    process.execPath,
    ["--import", "tsx", "scripts/pack.ts", join(work, "scripted")],
    { cwd: REPO },
  );
  const scripted = stdout.trim().split("\n");
  assert.deepEqual(
    scripted.map(integrityOf),
    [tarballs.sdk, tarballs.runtime].map(integrityOf),
    "npm pack writes the same bytes for the same content",
  );
  for (const [name, dir] of Object.entries(PACKAGE_DIRS)) {
    // --force: no registry lookup of published versions, which are not this test's business.
    const published = await exec("npm", ["publish", "--dry-run", "--force", "--json"], {
      cwd: join(REPO, dir),
      env: NPM_QUIET,
    });
    const report = Object.values(JSON.parse(published.stdout) as Record<string, { integrity: string }>);
    assert.equal(report[0]?.integrity, integrityOf(tarballs[name as keyof typeof tarballs]), dir);
  }
  assert.equal(await packageDirsStatus(), statusBeforePacking);
});

async function tarEntries(tarball: string): Promise<string[]> {
  return (await exec("tar", ["tzf", tarball])).stdout.trim().split("\n");
}

async function manifestIn(tarball: string): Promise<Record<string, unknown>> {
  const { stdout } = await exec("tar", ["xzOf", tarball, "package/package.json"]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

test("each tarball holds only the build, its README and LICENSE, with a manifest a user can resolve", async () => {
  for (const tarball of [tarballs.sdk, tarballs.runtime]) {
    const entries = await tarEntries(tarball);
    assert.ok(entries.includes("package/LICENSE") && entries.includes("package/README.md"), tarball);
    assert.ok(entries.includes("package/dist/index.js") && entries.includes("package/dist/index.d.ts"));
    const stray = entries.filter(
      (entry) => !/^package\/(dist\/|bin\/|proto\/|LICENSE$|README\.md$|package\.json$)/.test(entry),
    );
    assert.deepEqual(stray, [], "nothing but the build, README and LICENSE");
    assert.deepEqual(
      entries.filter((entry) => entry.endsWith(".map")),
      [],
    );
    const manifest = await manifestIn(tarball);
    assert.equal(
      JSON.stringify(manifest.exports).includes("development"),
      false,
      "no export points at sources",
    );
    assert.equal(manifest.devDependencies, undefined);
    assert.equal(manifest.scripts, undefined, "the pack hooks stay in the checkout");
    assert.equal(manifest.license, "Apache-2.0");
    assert.ok(manifest.repository && manifest.engines);
  }
});

test("both tarballs install into an empty directory with only registry dependencies", {
  timeout: 600_000,
}, async () => {
  consumer = join(work, "consumer");
  mkdirSync(consumer);
  await exec("npm", ["install", tarballs.sdk, tarballs.runtime], { cwd: consumer, env: NPM_QUIET });
  assert.ok(existsSync(join(consumer, "node_modules/switchboard/dist/cli/main.js")));
  assert.equal(existsSync(join(consumer, "node_modules/switchboard/src")), false);
});

test("npx switchboard --help lists the commands", async () => {
  const { stdout } = await exec("npx", ["--no-install", "switchboard", "--help"], {
    cwd: consumer,
    env: NPM_QUIET,
  });
  for (const command of ["init", "run", "dev", "validate", "send"])
    assert.match(stdout, new RegExp(`\\n  ${command} `));
});

test("the SDK imports as plain ESM, also under the development condition other tools set", async () => {
  const probe = `import("@switchboard/sdk").then((sdk) => import("@switchboard/sdk/testing").then((testing) =>
    console.log(typeof sdk.StatefulFunctions, typeof testing.TestRuntime)))`;
  for (const flags of [[], ["--conditions=development"]]) {
    const { stdout } = await exec(process.execPath, [...flags, "--input-type=module", "-e", probe], {
      cwd: consumer,
    });
    assert.equal(stdout.trim(), "function function");
  }
});

test("npx switchboard init makes a project that depends on the packages by version", {
  timeout: 600_000,
}, async () => {
  const { stdout } = await exec("npx", ["--no-install", "switchboard", "init", "app"], {
    cwd: consumer,
    env: NPM_QUIET,
  });
  assert.match(stdout, /created .*module\.yaml/);
  app = join(consumer, "app");
  const manifest = JSON.parse(readFileSync(join(app, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  assert.equal(manifest.dependencies.switchboard, "^0.1.0");
  // The packages are not on the registry: the project takes them from the tarballs, and
  // the consumer's node_modules, so that better-sqlite3 is built once for the whole test.
  renameSync(join(consumer, "node_modules"), join(app, "node_modules"));
  // At npm's warning level: the project lets better-sqlite3 and esbuild run their install
  // scripts, so npm has nothing to warn about. esbuild is installed afresh to prove it.
  rmSync(join(app, "node_modules/esbuild"), { recursive: true, force: true });
  const installed = await exec("npm", ["install", tarballs.sdk, tarballs.runtime], {
    cwd: app,
    env: { ...NPM_QUIET, npm_config_loglevel: "warn" },
  });
  assert.doesNotMatch(installed.stderr, /install-scripts|allowScripts/, installed.stderr);
});

test("the project's npm test, npm run typecheck and npm run validate pass", {
  timeout: 300_000,
}, async () => {
  const { NODE_TEST_CONTEXT: _, ...env } = NPM_QUIET;
  const tested = await exec("npm", ["test"], { cwd: app, env });
  assert.match(tested.stdout, /ℹ pass 2\n.*ℹ fail 0/s);
  const typed = await exec("npm", ["run", "typecheck"], { cwd: app, env });
  assert.doesNotMatch(typed.stdout, /error TS/);
  const validated = await exec("npm", ["run", "validate"], { cwd: app, env });
  assert.match(validated.stdout, /ok: 0 endpoints, 4 other components/);
});

/** Collects a child's output and resolves once it prints `ready` (or exits). */
function started(child: ChildProcess, ready: string): { output: () => string; ready: Promise<void> } {
  let text = "";
  const readyPromise = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${ready}" within 60 s:\n${text}`)), 60_000);
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes(ready)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before "${ready}":\n${text}`));
    });
  });
  return { output: () => text, ready: readyPromise };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
}

function childrenOf(pid: number): number[] {
  const file = `/proc/${pid}/task/${pid}/children`;
  return existsSync(file) ? readFileSync(file, "utf8").trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

test("npm start serves the project, and SIGTERM to npm stops the runtime", {
  timeout: 120_000,
}, async (t) => {
  // Fixed ports are for users; the test takes free ones.
  const yaml = join(app, "module.yaml");
  writeFileSync(yaml, readFileSync(yaml, "utf8").replace(/port: 809[012]/g, "port: 0"));
  const npm = spawn("npm", ["start", "--", "--admin-port", "0"], {
    cwd: app,
    env: { ...NPM_QUIET, SWITCHBOARD_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const npmExit = exited(npm);
  let runtimePid = 0;
  t.after(async () => {
    if (runtimePid && alive(runtimePid)) process.kill(runtimePid, "SIGKILL");
    if (npm.exitCode === null) npm.kill("SIGKILL");
    await npmExit;
  });
  const run = started(npm, "switchboard is running");
  await run.ready;
  runtimePid = childrenOf(npm.pid ?? 0)[0] ?? 0;
  assert.ok(runtimePid, "npm has the runtime as its child");
  assert.match(readFileSync(`/proc/${runtimePid}/cmdline`, "utf8"), /switchboard\0run\0module\.yaml/);

  const web = /web\s+(http:\/\/127\.0\.0\.1:\d+)\/functions/.exec(run.output())?.[1];
  const admin = /admin\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(run.output())?.[1];
  assert.ok(web && admin, run.output());
  assert.deepEqual(await (await fetch(`${web}/functions/hello?name=Grace`)).json(), {
    greeting: "Hello, Grace!",
  });
  assert.equal((await fetch(`${admin}/readyz`)).status, 200);

  npm.kill("SIGTERM");
  await npmExit;
  const deadline = Date.now() + 30_000;
  while (alive(runtimePid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(alive(runtimePid), false, `the runtime outlived npm:\n${run.output()}`);
});

test("switchboard dev starts the project and stops on SIGTERM", { timeout: 120_000 }, async (t) => {
  const bin = join(app, "node_modules/switchboard/bin/switchboard.js");
  const dev = spawn(process.execPath, [bin, "dev", "module.yaml", "--admin-port", "0"], {
    cwd: app,
    env: { ...process.env, SWITCHBOARD_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const devExit = exited(dev);
  t.after(async () => {
    if (dev.exitCode === null) dev.kill("SIGKILL");
    await devExit;
  });
  const running = started(dev, "switchboard dev is running");
  await running.ready;
  assert.match(running.output(), /watching {2}.*app/);
  dev.kill("SIGTERM");
  assert.equal(await devExit, 0, running.output());
});

test("an example copied out of the repository runs where it is copied", { timeout: 120_000 }, async (t) => {
  // Inside the project, so the installed packages resolve from its node_modules.
  const copy = join(app, "proxy");
  cpSync(join(REPO, "examples/proxy"), copy, { recursive: true });
  const web = join(copy, "web.yaml");
  writeFileSync(web, readFileSync(web, "utf8").replace(/port: 8092/, "port: 0"));
  const origin = createServer((request, response) =>
    response.end(`origin saw ${request.method} ${request.url}`),
  );
  await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => origin.close(() => resolve())));
  const { port } = origin.address() as AddressInfo;

  const bin = join(app, "node_modules/switchboard/bin/switchboard.js");
  const proxy = spawn(process.execPath, [bin, "run", ".", "--no-admin"], {
    cwd: copy,
    env: { ...process.env, SWITCHBOARD_LOG_LEVEL: "warn", PROXY_ORIGIN: `http://127.0.0.1:${port}` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const proxyExit = exited(proxy);
  t.after(async () => {
    if (proxy.exitCode === null) proxy.kill("SIGKILL");
    await proxyExit;
  });
  const running = started(proxy, "switchboard is running");
  await running.ready;
  const url = /web\s+(http:\/\/127\.0\.0\.1:\d+)\/functions/.exec(running.output())?.[1];
  assert.ok(url, running.output());
  const answer = await fetch(`${url}/functions/proxy/hello?x=1`);
  assert.equal(await answer.text(), "origin saw GET /hello?x=1");
  proxy.kill("SIGTERM");
  assert.equal(await proxyExit, 0, running.output());
});
