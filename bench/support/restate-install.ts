/**
 * Restate for `npm run bench -- restate`, installed on first use into a cache directory
 * (bench/.cache/restate, git-ignored) with npm's own client, never into the project's
 * dependency tree: `npm ci` stays light and only this benchmark pays for a ~100 MB server.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

// Server 1.7 speaks service protocols 5-7; SDK 1.17 offers 5-7 (checked by registering it).
export const RESTATE_SERVER_VERSION = "1.7";
export const RESTATE_SDK_VERSION = "1.17";

export const restateCacheDir = new URL("../.cache/restate/", import.meta.url).pathname;

export interface RestateInstall {
  serverBinary: string;
  serverVersion: string;
  sdkEntry: string;
  sdkVersion: string;
}

export function ensureRestateInstalled(): RestateInstall {
  const resolveFrom = createRequire(join(restateCacheDir, "package.json"));
  const located = locate(resolveFrom);
  if (located) return located;
  console.error(`installing Restate ${RESTATE_SERVER_VERSION} and its SDK into ${restateCacheDir} ...`);
  const result = spawnSync(
    "npm",
    [
      "install",
      "--prefix",
      restateCacheDir,
      "--no-audit",
      "--no-fund",
      // The server package's only dependency is a download-analytics postinstall.
      "--ignore-scripts",
      `@restatedev/restate-server@${RESTATE_SERVER_VERSION}`,
      `@restatedev/restate-sdk@${RESTATE_SDK_VERSION}`,
    ],
    { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, SCARF_ANALYTICS: "false" } },
  );
  if (result.status !== 0) throw new Error(`npm install of Restate failed (status ${result.status})`);
  const installed = locate(resolveFrom);
  if (!installed) throw new Error(`Restate installed into ${restateCacheDir} but its files were not found`);
  return installed;
}

function locate(resolveFrom: NodeJS.Require): RestateInstall | undefined {
  try {
    // The launcher in @restatedev/restate-server would sit between us and the server's pid;
    // the platform package holds the binary itself, which is what gets measured and stopped.
    const platformPackage = resolveFrom.resolve(
      `@restatedev/restate-server-linux-${process.arch}/package.json`,
    );
    const serverBinary = join(platformPackage, "..", "bin", "restate-server");
    const sdkEntry = resolveFrom.resolve("@restatedev/restate-sdk");
    if (!existsSync(serverBinary)) return undefined;
    return {
      serverBinary,
      serverVersion: versionOf(resolveFrom, "@restatedev/restate-server"),
      sdkEntry,
      sdkVersion: versionOf(resolveFrom, "@restatedev/restate-sdk"),
    };
  } catch {
    return undefined;
  }
}

function versionOf(resolveFrom: NodeJS.Require, name: string): string {
  return (resolveFrom(`${name}/package.json`) as { version: string }).version;
}
