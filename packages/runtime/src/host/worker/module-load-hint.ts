import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { SerializedError } from "./messages.js";

/**
 * Node's reasons for not loading a module name its own internals ("Cannot require() ES
 * Module ... in a cycle"); these are the two a user meets when a module is copied out of a
 * project, said in the user's terms: what is missing, and where to put it.
 */
export function moduleLoadHint(error: SerializedError, moduleFile: string): string | undefined {
  const missing = /Cannot find package '([^']+)'/.exec(error.message)?.[1];
  if (error.code === "ERR_MODULE_NOT_FOUND" && missing) {
    const project = dirname(nearestManifest(moduleFile) ?? moduleFile);
    return `it imports "${missing}", which is not installed for it: run \`npm install ${missing}\` in ${project} (an example copied out of the Switchboard repository lists what it needs in its package.json and README)`;
  }
  if (
    /^ERR_REQUIRE_(ESM|CYCLE_MODULE|ASYNC_MODULE)$/.test(error.code ?? "") ||
    /Cannot require\(\) ES Module|require\(\) of ES Module/.test(error.message)
  ) {
    const manifest = nearestManifest(moduleFile);
    if (manifest && typeOf(manifest) === "module") return undefined;
    const where = manifest
      ? `${manifest} does not say "type": "module"`
      : `no package.json above it says "type": "module"`;
    return `${moduleFile} uses import/export, but ${where}, so Node loads it as CommonJS: add "type": "module" to a package.json beside it (or name it .mts)`;
  }
  return undefined;
}

function nearestManifest(file: string): string | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) return manifest;
    if (dirname(dir) === dir) return undefined;
  }
}

function typeOf(manifest: string): unknown {
  try {
    return (JSON.parse(readFileSync(manifest, "utf8")) as { type?: unknown }).type;
  } catch {
    return undefined;
  }
}
