import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { SerializedError } from "./messages.js";

/**
 * Node's reasons for not loading a module name its own internals ("Cannot require() ES
 * Module ... in a cycle", "Cannot find module" with a require stack); these are the two a
 * user meets when a module is copied out of a project, said in the user's terms: what is
 * missing, and where to put it.
 *
 * Node majors fail differently on the same file: Node 20 refuses ESM syntax loaded as
 * CommonJS, Node 22+ compiles it to CommonJS and then fails on the first `require` it cannot
 * resolve. So "not in module scope" is judged from the file and its package.json, not from
 * which error Node happened to raise first.
 */
export function moduleLoadHint(error: SerializedError, moduleFile: string): string | undefined {
  const manifest = nearestManifest(moduleFile);
  if (loadedAsCommonJs(error) && usesModuleSyntax(moduleFile) && !inModuleScope(moduleFile, manifest)) {
    const where = manifest
      ? `${manifest} does not say "type": "module"`
      : `no package.json above it says "type": "module"`;
    return `${moduleFile} uses import/export, but ${where}, so Node loads it as CommonJS: add "type": "module" to a package.json beside it (or name it .mts)`;
  }
  const missing = missingPackage(error);
  if (missing) {
    const project = dirname(manifest ?? moduleFile);
    return `it imports "${missing}", which is not installed for it: run \`npm install ${missing}\` in ${project} (an example copied out of the Switchboard repository lists what it needs in its package.json and README)`;
  }
  return undefined;
}

function loadedAsCommonJs(error: SerializedError): boolean {
  return (
    /^(ERR_REQUIRE_(ESM|CYCLE_MODULE|ASYNC_MODULE)|MODULE_NOT_FOUND|ERR_VM_MODULE_LINK_FAILURE)$/.test(
      error.code ?? "",
    ) || /Cannot require\(\) ES Module|require\(\) of ES Module|Require stack:/.test(error.message)
  );
}

/** A bare package name Node could not resolve, from the ESM ("package") or CommonJS ("module") loader. */
function missingPackage(error: SerializedError): string | undefined {
  const esm = /Cannot find package '([^']+)'/.exec(error.message)?.[1];
  if (error.code === "ERR_MODULE_NOT_FOUND" && esm) return esm;
  const cjs = /Cannot find module '([^'./][^']*)'/.exec(error.message)?.[1];
  if (error.code === "MODULE_NOT_FOUND" && cjs && !cjs.startsWith("node:")) return cjs;
  return undefined;
}

function usesModuleSyntax(file: string): boolean {
  try {
    return /^\s*(import\s*[\w{*"']|export\s)/m.test(readFileSync(file, "utf8"));
  } catch {
    return false;
  }
}

function inModuleScope(file: string, manifest: string | undefined): boolean {
  if (/\.m[jt]s$/.test(file)) return true;
  return manifest !== undefined && typeOf(manifest) === "module";
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
