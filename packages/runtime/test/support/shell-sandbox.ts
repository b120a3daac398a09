/**
 * A place to run the docs' shell samples as written: a temporary directory, a `switchboard`
 * command that is this checkout's CLI, and, where Linux allows it, a private network namespace,
 * so the docs' fixed ports (8090, 8099, ...) are free whoever else uses the machine and
 * nothing a sample serves is reachable from outside.
 *
 * - `switchboard` (on PATH, and npm's global bin, which is where `npx switchboard` finds it)
 *   runs the CLI from its TypeScript sources under the development condition, so a sample
 *   runs the code under test, not a build that may be stale.
 * - curl reads a .curlrc: a 4xx or 5xx answer fails the command (and shows the body), errors
 *   are shown, and no call waits more than 10 s.
 * - Each command runs as `bash -c` in a process group of its own, which the test signals by
 *   its pid; nothing outlives the sandbox.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { REPO } from "./doc-samples.js";

const CLI_SOURCE = join(REPO, "packages/runtime/src/cli/main.ts");
const TSX_LOADER = import.meta.resolve("tsx");

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface Running {
  readonly command: string;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<number | null>;
  isRunning(): boolean;
}

export interface Sandbox {
  readonly root: string;
  /** True when the commands have a network namespace of their own. */
  readonly isolated: boolean;
  /** The environment every command gets. */
  readonly env: NodeJS.ProcessEnv;
  start(command: string, cwd: string, env?: NodeJS.ProcessEnv): Running;
  /** Runs a command to its end, killing its process group after `timeoutMs`. */
  run(command: string, cwd: string, timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<Finished>;
  /**
   * SIGTERM to the command's process group, SIGKILL if it is still there after `graceMs`.
   * Resolves true when it took the SIGKILL.
   */
  stop(running: Running, graceMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

const CURLRC = "fail-with-body\nsilent\nshow-error\nmax-time = 10\n";

function shim(): string {
  return [
    "#!/bin/sh",
    "# switchboard as installed, but this checkout's CLI from its sources (docs-shell-samples.test.ts)",
    `exec "${process.execPath}" --conditions=development --import "${TSX_LOADER}" "${CLI_SOURCE}" "$@"`,
    "",
  ].join("\n");
}

/** A network namespace held open by a process of its own, or undefined where Linux refuses. */
async function networkNamespace(): Promise<ChildProcess | undefined> {
  // `cat` holds the namespace until its stdin closes: at close(), or when the test process dies.
  const script = "PATH=$PATH:/usr/sbin:/sbin; ip link set lo up && echo up && exec cat >/dev/null";
  // A missing unshare or a refusal shows as an error or an early exit, not as a throw.
  const holder = spawn("unshare", ["--user", "--map-root-user", "--net", "sh", "-c", script], {
    stdio: ["pipe", "pipe", "ignore"],
  });
  let timer: NodeJS.Timeout | undefined;
  const up = await new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), 10_000);
    holder.once("error", () => resolve(false));
    holder.once("exit", () => resolve(false));
    holder.stdout?.once("data", (chunk: Buffer) => resolve(chunk.toString().startsWith("up")));
  });
  clearTimeout(timer);
  // Entering it is what the commands will do: make sure Linux lets this user.
  if (up && spawnSync("nsenter", [...enter(holder.pid ?? 0), "true"]).status === 0) return holder;
  holder.kill("SIGKILL");
  return undefined;
}

function enter(holderPid: number): string[] {
  return [`--target=${holderPid}`, "--user", "--net", "--preserve-credentials", "--"];
}

export async function openSandbox(): Promise<Sandbox> {
  const root = mkdtempSync(join(tmpdir(), "switchboard-doc-samples-"));
  const globalPrefix = join(root, "npm-global");
  mkdirSync(join(globalPrefix, "bin"), { recursive: true });
  writeFileSync(join(globalPrefix, "bin/switchboard"), shim());
  chmodSync(join(globalPrefix, "bin/switchboard"), 0o755);
  writeFileSync(join(root, ".curlrc"), CURLRC);
  const { NODE_TEST_CONTEXT: _nested, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    PATH: `${join(globalPrefix, "bin")}:${process.env.PATH ?? ""}`,
    npm_config_prefix: globalPrefix,
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    CURL_HOME: root,
    SWITCHBOARD_LOG_LEVEL: "warn",
  };
  const holder = await networkNamespace();
  const inNamespace = (command: string): [string, string[]] =>
    holder?.pid ? ["nsenter", [...enter(holder.pid), "bash", "-c", command]] : ["bash", ["-c", command]];
  const children = new Set<Running>();

  const sandbox: Sandbox = {
    root,
    isolated: holder !== undefined,
    env,
    start(command, cwd, extraEnv = {}) {
      const [file, args] = inNamespace(command);
      const child = spawn(file, args, {
        cwd,
        env: { ...env, ...extraEnv },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => {
        child.once("error", () => resolve(null));
        child.once("close", (code) => resolve(code));
      });
      const running: Running = {
        command,
        pid: child.pid ?? 0,
        stdout: () => stdout,
        stderr: () => stderr,
        exited,
        isRunning: () => child.exitCode === null && child.signalCode === null,
      };
      children.add(running);
      void exited.then(() => children.delete(running));
      return running;
    },
    async run(command, cwd, timeoutMs, extraEnv = {}) {
      const running = sandbox.start(command, cwd, extraEnv);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        void sandbox.stop(running, 1_000);
      }, timeoutMs);
      const code = await running.exited;
      clearTimeout(timer);
      return { code, stdout: running.stdout(), stderr: running.stderr(), timedOut };
    },
    async stop(running, graceMs = 10_000) {
      const signal = (name: NodeJS.Signals) => {
        try {
          // The negative pid is the command's own process group: its shell, npm, the runtime.
          process.kill(-running.pid, name);
        } catch {
          // Already gone.
        }
      };
      let killed = false;
      signal("SIGTERM");
      const late = setTimeout(() => {
        killed = true;
        signal("SIGKILL");
      }, graceMs);
      await running.exited;
      clearTimeout(late);
      // A grandchild that left the group's leader behind still belongs to the group.
      signal("SIGKILL");
      return killed;
    },
    async close() {
      await Promise.all([...children].map((child) => sandbox.stop(child, 5_000)));
      if (holder && holder.exitCode === null && holder.signalCode === null) {
        const gone = new Promise((resolve) => holder.once("exit", resolve));
        holder.stdin?.end();
        const late = setTimeout(() => holder.kill("SIGKILL"), 5_000);
        await gone;
        clearTimeout(late);
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
  return sandbox;
}

/**
 * What `npm install` gives a project, taken from this checkout instead of a registry: each
 * dependency the project's package.json names, linked from the checkout's node_modules (the
 * workspace packages are there too), and their commands in node_modules/.bin, `switchboard`
 * being the sandbox's. A dependency the checkout does not have fails, as a missing package would.
 */
export function installFromCheckout(projectDir: string, sandbox: Sandbox): void {
  const manifest = JSON.parse(readFileSync(join(projectDir, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const modules = join(projectDir, "node_modules");
  mkdirSync(join(modules, ".bin"), { recursive: true });
  for (const name of Object.keys({ ...manifest.dependencies, ...manifest.devDependencies })) {
    const source = join(REPO, "node_modules", name);
    if (!existsSync(source)) throw new Error(`npm install: the checkout has no ${name} to link`);
    const target = join(modules, name);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(realpathSync(source), target);
    const bin = (JSON.parse(readFileSync(join(source, "package.json"), "utf8")) as { bin?: unknown }).bin;
    const bins = typeof bin === "string" ? { [name.split("/").pop() ?? name]: bin } : (bin ?? {});
    for (const [command, file] of Object.entries(bins as Record<string, string>)) {
      const link = join(modules, ".bin", command);
      if (existsSync(link)) continue;
      symlinkSync(
        command === "switchboard"
          ? join(sandbox.env.npm_config_prefix ?? "", "bin/switchboard")
          : join(target, file),
        link,
      );
    }
  }
}
