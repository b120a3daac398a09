import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { CliErrors } from "../errors/cli-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { projectFiles } from "./init/project-files.js";

export interface InitResult {
  readonly dir: string;
  readonly files: string[];
}

/** This checkout's packages: the runtime this file belongs to, and the SDK beside it. */
function checkout(): { runtime: string; sdk: string; tsx: string } {
  const runtime = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
  const sdk = resolve(runtime, "../sdk");
  if (!existsSync(join(sdk, "package.json"))) {
    throw new SwitchboardError(
      CliErrors.INIT_NO_CHECKOUT,
      `switchboard init links projects to a Switchboard checkout, and ${sdk} is not one (no packages/sdk next to ${runtime})`,
    );
  }
  const manifest = JSON.parse(readFileSync(join(runtime, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  return { runtime, sdk, tsx: manifest.dependencies?.tsx ?? "^4" };
}

/** Writes a new project into `target` (created if missing); refuses a directory with files. */
export function initProject(target: string): InitResult {
  const dir = resolve(target);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new SwitchboardError(
      CliErrors.INIT_NOT_EMPTY,
      `${dir} is not empty; switchboard init writes only into a new or empty directory`,
      { dir },
    );
  }
  const name =
    basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[._-]+/, "") || "switchboard-app";
  const files = projectFiles({ name, ...checkout() });
  for (const [path, text] of Object.entries(files)) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text, { flag: "wx" });
  }
  return { dir, files: Object.keys(files) };
}

/** `switchboard init [dir]`: a new project, and the two commands that run it. */
export function registerInitCommand(program: Command): void {
  program
    .command("init")
    .description("create a new project: module YAML, a stateful and a web function, a test, a README")
    .argument("[dir]", "where to create it (new or empty)", ".")
    .action((dir: string) => {
      const result = initProject(dir);
      for (const file of result.files) console.log(`created ${join(result.dir, file)}`);
      const cd = resolve(dir) === process.cwd() ? "" : `cd ${dir} && `;
      console.log(`\nnext:\n  ${cd}npm install\n  npm start     (or: npm test)`);
    });
}
