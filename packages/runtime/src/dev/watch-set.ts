import { readdirSync, statSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { isInside } from "./file-watcher.js";

/** Extensions whose change triggers a reload: module YAML and function code. */
const CONFIG = new Set([".yaml", ".yml"]);
const CODE = new Set([".ts", ".mts", ".cts", ".tsx", ".js", ".mjs", ".cjs", ".jsx", ".json"]);
/** How deep below a module's directory imported files are watched, and how many directories at most. */
const MAX_DEPTH = 4;
const MAX_DIRS = 500;

/**
 * The directories `switchboard dev` watches: where the module YAML is, and each hosted
 * module's directory with its subdirectories (where the files it imports usually live),
 * leaving out node_modules, hidden directories and the store.
 */
export function watchSet(
  yamlPaths: readonly string[],
  moduleFiles: readonly string[],
  dataDir: string,
): string[] {
  const dirs = new Set<string>();
  for (const path of yamlPaths) {
    const absolute = resolve(path);
    dirs.add(isDirectory(absolute) ? absolute : dirname(absolute));
  }
  const walked = new Set<string>();
  for (const file of moduleFiles) collect(dirname(resolve(file)), 0, dirs, walked, resolve(dataDir));
  return [...dirs];
}

/** Whether a changed path can matter to a reload. */
export function isRelevant(file: string, dataDir: string): boolean {
  if (isInside(file, resolve(dataDir)) || file.includes("/node_modules/")) return false;
  const extension = extname(file);
  return CONFIG.has(extension) || CODE.has(extension);
}

function collect(dir: string, depth: number, into: Set<string>, walked: Set<string>, dataDir: string): void {
  if (into.size >= MAX_DIRS || walked.has(dir) || isInside(dir, dataDir)) return;
  walked.add(dir);
  into.add(dir);
  if (depth >= MAX_DEPTH) return;
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith(".") || entry.name === "node_modules") continue;
    collect(join(dir, entry.name), depth + 1, into, walked, dataDir);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
