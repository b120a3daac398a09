import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { CliErrors } from "../errors/cli-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { type PackageSources, projectFiles } from "./init/project-files.js";

export interface InitResult {
  readonly dir: string;
  readonly files: string[];
}

/** The runtime package this file belongs to: its directory and manifest. */
function runtimePackage(): { dir: string; manifest: RuntimeManifest } {
  const dir = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
  return { dir, manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as RuntimeManifest };
}

interface RuntimeManifest {
  version: string;
  dependencies?: Record<string, string>;
}

/**
 * Where the project's two Switchboard packages come from: the registry, at this runtime's
 * version; or, with `link`, this checkout's packages by absolute file: path.
 */
function sources(link: boolean): PackageSources {
  const { dir: runtime, manifest } = runtimePackage();
  const tsx = manifest.dependencies?.tsx ?? "^4";
  const zod = manifest.dependencies?.zod ?? "^4";
  if (!link) {
    // The SDK at the version this runtime was built against, as a caret range either way.
    const sdk = (manifest.dependencies?.["@switchboard/sdk"] ?? manifest.version).replace(/^[\^~]/, "");
    return { kind: "registry", runtime: `^${manifest.version}`, sdk: `^${sdk}`, tsx, zod };
  }
  const sdk = resolve(runtime, "../sdk");
  if (!existsSync(join(sdk, "package.json")) || !existsSync(join(runtime, "src"))) {
    throw new SwitchboardError(
      CliErrors.INIT_NO_CHECKOUT,
      `switchboard init --link links the project to a Switchboard checkout, and ${runtime} is not in one (no packages/sdk beside it, or no src/); without --link the project depends on the published packages`,
    );
  }
  return { kind: "checkout", runtime, sdk, tsx, zod };
}

/** Writes a new project into `target` (created if missing); refuses a directory with files. */
export function initProject(target: string, options: { link?: boolean } = {}): InitResult {
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
  const files = projectFiles(name, sources(options.link ?? false));
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
    .option(
      "--link",
      "depend on this Switchboard checkout by file: path instead of the published packages (for developing Switchboard)",
    )
    .action((dir: string, flags: { link?: boolean }) => {
      const result = initProject(dir, { link: flags.link ?? false });
      for (const file of result.files) console.log(`created ${join(result.dir, file)}`);
      const cd = resolve(dir) === process.cwd() ? "" : `cd ${dir} && `;
      console.log(`\nnext:\n  ${cd}npm install\n  npm start     (or: npm run dev, npm test)`);
    });
}
