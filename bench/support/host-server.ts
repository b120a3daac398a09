/**
 * Runs a Switchboard host on one module for a benchmark and prints the web listener's port.
 *   host-server.ts <module file> <workers> [extra YAML spec lines, joined by "\n"]
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Runtime } from "../../packages/runtime/src/runtime.js";

const [module = "", workers = "1", extra = ""] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), "switchboard-host-bench-"));
const file = join(dir, "module.yaml");
writeFileSync(
  file,
  [
    "kind: io.switchboard.functions.v1/module",
    "spec:",
    `  module: ${module}`,
    `  workers: ${workers}`,
    ...extra
      .split("\n")
      .filter(Boolean)
      .map((line) => `  ${line}`),
    "---",
    "kind: io.switchboard.functions.v1/web",
    "spec: { port: 0 }",
  ].join("\n"),
);
const runtime = await Runtime.start({ modules: [file], dataDir: join(dir, "data") });
console.log(runtime.host.listeners[0]?.port);
process.once("SIGTERM", () => {
  void runtime.stop().then(() => process.exit(0));
});
