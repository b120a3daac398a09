/**
 * `npm run pack -- <dir>`: builds both packages and writes the tarballs a user installs
 * (`switchboard-sdk-<v>.tgz`, `switchboard-<v>.tgz`) into <dir>, default ./tmp/pack.
 *
 * Each package is packed from a staged copy rather than from packages/*: the workspace
 * manifests carry a `development` export condition pointing at TypeScript sources, which
 * are not shipped; a user whose tools set that condition (Vite does) would resolve to files
 * that are not there. The staged manifest drops it, along with devDependencies, and the
 * staged dist/ drops source maps, whose sources are not shipped either.
 * `npm publish <dir>/stage/<package>` publishes the same content.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), "..");
const PACKAGES = ["packages/sdk", "packages/runtime"];

type Exports = string | { [condition: string]: Exports };

interface Manifest {
  name: string;
  version: string;
  files?: string[];
  exports?: Exports;
  devDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
  [field: string]: unknown;
}

/** The exports map without the `development` condition, at any depth. */
export function withoutDevelopmentCondition(exports: Exports): Exports {
  if (typeof exports === "string") return exports;
  return Object.fromEntries(
    Object.entries(exports)
      .filter(([condition]) => condition !== "development")
      .map(([key, value]) => [key, withoutDevelopmentCondition(value)]),
  );
}

export function publishedManifest(manifest: Manifest): Manifest {
  const { devDependencies: _dev, scripts: _scripts, ...published } = manifest;
  if (published.exports) published.exports = withoutDevelopmentCondition(published.exports);
  return published;
}

function stage(packageDir: string, stageRoot: string): string {
  const source = join(ROOT, packageDir);
  const manifest = JSON.parse(readFileSync(join(source, "package.json"), "utf8")) as Manifest;
  const target = join(stageRoot, basename(packageDir));
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const entry of manifest.files ?? []) {
    cpSync(join(source, entry), join(target, entry), {
      recursive: true,
      filter: (path) => !path.endsWith(".map"),
    });
  }
  cpSync(join(source, "README.md"), join(target, "README.md"));
  cpSync(join(ROOT, "LICENSE"), join(target, "LICENSE"));
  writeFileSync(join(target, "package.json"), `${JSON.stringify(publishedManifest(manifest), null, 2)}\n`);
  return target;
}

function main(outDir: string): void {
  execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
  mkdirSync(outDir, { recursive: true });
  for (const packageDir of PACKAGES) {
    const staged = stage(packageDir, join(outDir, "stage"));
    const packed = execFileSync("npm", ["pack", "--silent", "--pack-destination", outDir], {
      cwd: staged,
      encoding: "utf8",
    }).trim();
    console.log(join(outDir, packed));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === SELF) {
  main(resolve(process.argv[2] ?? join(ROOT, "tmp/pack")));
}
