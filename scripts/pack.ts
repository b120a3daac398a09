/**
 * `npm run pack -- <dir>`: writes the tarballs a user installs (`switchboard-sdk-<v>.tgz`,
 * `switchboard-<v>.tgz`) into <dir>, default ./tmp/pack, and prints their paths.
 *
 * It is a plain `npm pack` in each package directory: the packages' prepack and postpack hooks
 * (scripts/pack-hooks.ts) build them and publish a manifest without the development-only parts
 * (scripts/published-manifest.ts), so `npm pack` or `npm publish` there gives the same content.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), "..");
/** In dependency order: the runtime's build builds the SDK first anyway. */
const PACKAGES = ["packages/sdk", "packages/runtime"];

function main(outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  for (const packageDir of PACKAGES) {
    const packed = execFileSync("npm", ["pack", "--silent", "--pack-destination", outDir], {
      cwd: join(ROOT, packageDir),
      encoding: "utf8",
    });
    // npm prints the tarball's file name last.
    console.log(join(outDir, packed.trim().split("\n").at(-1) ?? ""));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === SELF) {
  main(resolve(process.argv[2] ?? join(ROOT, "tmp/pack")));
}
