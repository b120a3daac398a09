/**
 * The lifecycle hooks that make a plain `npm pack` or `npm publish` in packages/sdk or
 * packages/runtime produce the tarball a user installs (`npm run pack` packs through them too):
 *
 *   prepack         build the package, then rewrite its package.json as published
 *                   (published-manifest.ts) and copy the repository's LICENSE beside it
 *   postpack        put package.json back as it was and remove the copied LICENSE
 *   prepublishOnly  refuse a real publish while the repository URL is a placeholder
 *
 * npm runs them with the package directory as the working directory, and reads package.json
 * afresh after prepack, so the tarball carries the rewritten manifest. What prepack changed is
 * recorded in RESTORE_FILE first; a pack that was interrupted before postpack is undone by the
 * next prepack (or by `postpack` by hand).
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { hasPlaceholderRepository, type Manifest, publishedManifest } from "./published-manifest.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const RESTORE_FILE = ".pack-restore.json";

interface Restore {
  /** package.json's text before prepack. */
  manifest: string;
  /** Files prepack added to the package directory. */
  added: string[];
}

function packageDir(): string {
  const dir = process.cwd();
  const inside = relative(join(ROOT, "packages"), dir);
  if (inside.startsWith("..") || inside.includes("/") || !existsSync(join(dir, "package.json")))
    throw new Error(`pack hooks run in a package directory under ${join(ROOT, "packages")}, not ${dir}`);
  return dir;
}

function restore(dir: string): void {
  const file = join(dir, RESTORE_FILE);
  if (!existsSync(file)) return;
  const record = JSON.parse(readFileSync(file, "utf8")) as Restore;
  writeFileSync(join(dir, "package.json"), record.manifest);
  for (const added of record.added) rmSync(join(dir, added), { force: true });
  rmSync(file);
}

function prepack(dir: string): void {
  restore(dir);
  // tsc -b follows the package's project references, so the runtime builds the SDK first.
  execFileSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-b", dir], {
    stdio: "inherit",
  });
  const text = readFileSync(join(dir, "package.json"), "utf8");
  const added = existsSync(join(dir, "LICENSE")) ? [] : ["LICENSE"];
  // Recorded before anything changes, so that whatever happens next can be undone.
  writeFileSync(join(dir, RESTORE_FILE), JSON.stringify({ manifest: text, added } satisfies Restore));
  for (const file of added) copyFileSync(join(ROOT, file), join(dir, file));
  const published = publishedManifest(JSON.parse(text) as Manifest);
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(published, null, 2)}\n`);
}

function prepublishOnly(dir: string): void {
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
  // npm hands its flags to lifecycle scripts as npm_config_*; a dry run may go ahead.
  if (hasPlaceholderRepository(manifest) && process.env["npm_config_dry_run"] !== "true")
    throw new Error(
      `${manifest.name}: package.json's repository is a placeholder; set the project's real URL before publishing`,
    );
}

const hooks: Record<string, (dir: string) => void> = {
  prepack,
  postpack: restore,
  prepublishOnly,
};

const hook = hooks[process.argv[2] ?? ""];
if (!hook) {
  console.error(`usage: pack-hooks.ts ${Object.keys(hooks).join("|")}`);
  process.exit(2);
}
try {
  hook(packageDir());
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
