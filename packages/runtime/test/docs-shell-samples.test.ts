/**
 * The README's and the docs' shell samples, run as a reader would run them, so they cannot
 * drift from what Switchboard does: each page in a sandbox of its own (shell-sandbox.ts), its
 * samples in order, commands as written (shell-sample-plan.ts says which are stood in for or
 * not run, and why). A command must succeed; where a sample shows output (a `console` block),
 * the output must be what it shows; a long-running command must come up serving, and the
 * samples after it talk to it until the next one replaces it.
 *
 * Where a reader starts: README.md in this checkout (the store of its `npm start` goes to the
 * sandbox), docs/local-development.md in an empty directory, operations.md and cluster.md in
 * a copy of the greeter their samples show, any other page in a project made by
 * `switchboard init` and installed.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { REPO, SHELL_INFOS, samplesIn, where } from "./support/doc-samples.js";
import { type PageContext, planSample, SERVING, type Step } from "./support/shell-sample-plan.js";
import { installFromCheckout, openSandbox, type Running, type Sandbox } from "./support/shell-sandbox.js";

const CONTEXTS: Record<string, PageContext> = {
  "README.md": "checkout",
  "docs/local-development.md": "empty dir",
  // Their samples show the greeter's addresses and endpoint, and a module.yaml with ingress on 8090.
  "docs/operations.md": "greeter",
  "docs/cluster.md": "greeter",
};

const RUN_TIMEOUT_MS = 30_000;
const SERVE_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
/** The runtime answers some calls once a message has gone through: a reader would try again. */
const CURL_RETRY_MS = 5_000;
/** The home directory the docs' sample output shows, standing for wherever the reader is. */
const READERS_DIR = /\/home\/me\/[\w.-]+/g;

const pagesToRun = ["README.md", ...readdirSync(join(REPO, "docs")).map((name) => `docs/${name}`)]
  .filter((page) => page.endsWith(".md"))
  .filter((page) => samplesIn(page).some((sample) => SHELL_INFOS.has(sample.info)));

/** The serving part of a long-running command's output: up to the line that says it serves. */
function untilServing(text: string): string[] {
  const lines = text.trimEnd().split("\n");
  const serving = lines.findIndex((line) => SERVING.test(line));
  return serving === -1 ? lines : lines.slice(0, serving + 1);
}

function describeFailure(step: Step, detail: string, sandbox: Sandbox): string {
  const network = sandbox.isolated
    ? ""
    : "\n(no private network namespace here: the docs' ports are this machine's, and may be taken)";
  return `${step.at}: ${step.command}\n${detail}${network}`;
}

async function runStep(
  step: Extract<Step, { kind: "run" }>,
  cwd: string,
  sandbox: Sandbox,
  extraEnv: NodeJS.ProcessEnv,
): Promise<void> {
  const retryUntil = /^curl\b/.test(step.command) ? Date.now() + CURL_RETRY_MS : 0;
  for (;;) {
    const result = await sandbox.run(step.command, cwd, RUN_TIMEOUT_MS, extraEnv);
    const failed = result.timedOut || result.code !== 0;
    if (failed && Date.now() < retryUntil) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    const output = `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
    assert.ok(
      !result.timedOut,
      describeFailure(step, `did not end within ${RUN_TIMEOUT_MS} ms\n${output}`, sandbox),
    );
    assert.equal(result.code, 0, describeFailure(step, `exited ${result.code}\n${output}`, sandbox));
    if (step.expected !== undefined)
      assert.equal(
        result.stdout.trimEnd(),
        step.expected.replace(READERS_DIR, cwd),
        describeFailure(step, "printed other than the sample shows", sandbox),
      );
    return;
  }
}

async function serveStep(
  step: Extract<Step, { kind: "serve" }>,
  cwd: string,
  sandbox: Sandbox,
  extraEnv: NodeJS.ProcessEnv,
): Promise<Running> {
  const server = sandbox.start(step.command, cwd, extraEnv);
  const deadline = Date.now() + SERVE_TIMEOUT_MS;
  while (!SERVING.test(server.stdout()) && server.isRunning() && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  const output = () => `stdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`;
  if (!SERVING.test(server.stdout())) {
    const why = server.isRunning() ? `not serving after ${SERVE_TIMEOUT_MS} ms` : "exited before serving";
    await sandbox.stop(server, 2_000);
    assert.fail(describeFailure(step, `${why}\n${output()}`, sandbox));
  }
  if (step.expected !== undefined)
    assert.deepEqual(
      untilServing(server.stdout()),
      untilServing(step.expected.replace(READERS_DIR, cwd)),
      describeFailure(step, `prints other than the sample shows\n${output()}`, sandbox),
    );
  return server;
}

/** Where the page's reader starts, made as the docs say. */
async function startingPoint(
  context: PageContext,
  sandbox: Sandbox,
): Promise<{ cwd: string; env: NodeJS.ProcessEnv }> {
  if (context === "checkout")
    // `npm start` keeps its store in ./.switchboard: the sandbox's, not the checkout's.
    return { cwd: REPO, env: { SWITCHBOARD_DATA_DIR: join(sandbox.root, "greeter-store") } };
  if (context === "greeter") {
    const cwd = join(sandbox.root, "greeter");
    cpSync(join(REPO, "examples/greeter"), cwd, { recursive: true });
    return { cwd, env: {} };
  }
  if (context === "empty dir") {
    const cwd = join(sandbox.root, "work");
    mkdirSync(cwd);
    return { cwd, env: {} };
  }
  const made = await sandbox.run("switchboard init app", sandbox.root, RUN_TIMEOUT_MS);
  assert.equal(made.code, 0, `switchboard init app:\n${made.stdout}\n${made.stderr}`);
  const cwd = join(sandbox.root, "app");
  installFromCheckout(cwd, sandbox);
  return { cwd, env: {} };
}

async function stopServing(servers: Running[], sandbox: Sandbox): Promise<void> {
  await Promise.all(
    servers.map(async (server) => {
      const killed = await sandbox.stop(server, STOP_TIMEOUT_MS);
      // The docs say SIGTERM stops it (draining first): hold them to it.
      assert.ok(!killed, `${server.command}: still running ${STOP_TIMEOUT_MS} ms after SIGTERM`);
    }),
  );
}

async function runPage(page: string, t: TestContext): Promise<void> {
  const context = CONTEXTS[page] ?? "project";
  const sandbox = await openSandbox();
  t.after(() => sandbox.close());
  if (!sandbox.isolated) t.diagnostic("no private network namespace: running on this machine's ports");
  const start = await startingPoint(context, sandbox);
  let cwd = start.cwd;
  let servers: Running[] = [];
  const counts = { ran: 0, served: 0, stoodIn: 0, notRun: 0 };
  const plans = samplesIn(page)
    .filter((sample) => SHELL_INFOS.has(sample.info))
    .map((sample) => planSample(sample, context));
  for (const plan of plans) {
    if (plan.sample.marker?.kind === "skip") {
      t.diagnostic(`${where(plan.sample)}: sample not run (${plan.sample.marker.reason})`);
      counts.notRun += plan.steps.length;
      continue;
    }
    // A sample in a directory of its own leaves the reader where they were.
    const readersDir = cwd;
    if (plan.ownDir) {
      cwd = join(sandbox.root, `own-dir-${plan.sample.line}`);
      mkdirSync(cwd);
    }
    for (const step of plan.steps) {
      switch (step.kind) {
        case "cd":
          cwd = resolve(cwd, step.dir);
          assert.ok(existsSync(cwd), describeFailure(step, `no directory ${cwd}`, sandbox));
          break;
        case "stand-in":
          t.diagnostic(`${step.at}: ${step.command}: stood in for (${step.reason})`);
          if (step.does === "install") installFromCheckout(cwd, sandbox);
          counts.stoodIn++;
          break;
        case "not run":
          t.diagnostic(`${step.at}: ${step.command}: not run (${step.reason})`);
          counts.notRun++;
          break;
        case "run":
          await runStep(step, cwd, sandbox, start.env);
          counts.ran++;
          break;
        case "serve":
          if (!step.sideBySide) {
            await stopServing(servers, sandbox);
            servers = [];
          }
          servers.push(await serveStep(step, cwd, sandbox, start.env));
          counts.served++;
          break;
      }
    }
    if (plan.ownDir) cwd = readersDir;
  }
  await stopServing(servers, sandbox);
  t.diagnostic(
    `commands: ${counts.ran} run, ${counts.served} served, ${counts.stoodIn} stood in for, ${counts.notRun} not run`,
  );
}

/** Pages run at once only where each has a network of its own: they serve on the same ports. */
const isolated = await openSandbox().then(async (probe) => {
  await probe.close();
  return probe.isolated;
});

describe("the README's and the docs' shell samples run as written", { concurrency: isolated }, () => {
  for (const page of pagesToRun) test(page, { timeout: 120_000 }, (t) => runPage(page, t));
});
