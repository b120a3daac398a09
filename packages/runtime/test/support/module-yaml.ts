import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** An endpoint for `test/*` that nothing answers: for tests that never reach a function. */
export const UNREACHABLE_TEST_ENDPOINT = [
  "kind: io.statefun.endpoints.v2/http",
  "spec:",
  "  functions: test/*",
  "  urlPathTemplate: http://127.0.0.1:1/{function.name}",
].join("\n");

/** A playground ingress on a free port. */
export const PLAYGROUND_INGRESS = ["kind: io.statefun.playground.v1/ingress", "spec: { port: 0 }"].join("\n");

/** Writes `dir/module.yaml` with one YAML document per entry and returns its path. */
export function writeModuleYaml(dir: string, ...documents: string[]): string {
  const file = join(dir, "module.yaml");
  writeFileSync(file, `${documents.join("\n---\n")}\n`);
  return file;
}
