/** A module copied out of its project says what is missing, not where in Node it failed. */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { Runtime } from "../src/runtime.js";
import { tempDir } from "./support/temp-dir.js";

const FUNCTIONS = `import { webFunction } from "@switchboard/sdk";
export const hello = webFunction({ name: "hello", handler: () => "hi" });
`;

/** A module directory outside this repository (under the OS temp dir), as a user copies it. */
function copiedModule(t: TestContext, manifest?: object): string {
  const dir = join(tempDir(t), "copied");
  mkdirSync(dir);
  writeFileSync(join(dir, "functions.ts"), FUNCTIONS);
  if (manifest) writeFileSync(join(dir, "package.json"), JSON.stringify(manifest));
  writeFileSync(
    join(dir, "module.yaml"),
    "kind: io.switchboard.functions.v1/module\nspec: { module: ./functions.ts, web: [hello], workers: 1 }\n",
  );
  return dir;
}

async function loadFailure(dir: string): Promise<string> {
  const error = await Runtime.start({ modules: [join(dir, "module.yaml")], dataDir: join(dir, "data") }).then(
    async (runtime) => {
      await runtime.stop();
      return assert.fail("the copied module loaded");
    },
    (error: Error & { code?: string }) => error,
  );
  assert.equal(error.code, "SB_HOST_MODULE_LOAD_FAILED");
  return error.message;
}

test("without a package.json saying type: module, the error says to add one", async (t) => {
  const dir = copiedModule(t);
  const message = await loadFailure(dir);
  assert.match(
    message,
    /^\.\/functions\.ts could not be loaded: .*copied\/functions\.ts uses import\/export, but no package\.json above it says "type": "module", so Node loads it as CommonJS: add "type": "module" to a package\.json beside it/,
  );
  assert.doesNotMatch(message, /\(at \/modules|node:internal/);
});

test("without @switchboard/sdk installed, the error says to install it where the module is", async (t) => {
  const dir = copiedModule(t, { type: "module" });
  const message = await loadFailure(dir);
  assert.match(
    message,
    new RegExp(
      `could not be loaded: it imports "@switchboard/sdk", which is not installed for it: run \`npm install @switchboard/sdk\` in ${dir}`,
    ),
  );
});
