import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { Store } from "../src/store/store.js";
import { spawnCli } from "./support/cli-child.js";
import { writeModuleYaml } from "./support/module-yaml.js";
import { tempDir } from "./support/temp-dir.js";

test("SIGTERM ends the process within the drain timeout while endpoints hang or refuse, keeping unapplied messages", async (t) => {
  // Accepts connections and never answers: batches stay in flight until the call deadline (60 s).
  const hanging = createServer(() => {});
  await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        hanging.close(() => resolve());
        hanging.closeAllConnections();
      }),
  );
  const dir = tempDir(t);
  const file = writeModuleYaml(
    dir,
    [
      "kind: io.statefun.endpoints.v2/http",
      "spec:",
      "  functions: hang/*",
      `  urlPathTemplate: http://127.0.0.1:${(hanging.address() as AddressInfo).port}/{function.name}`,
    ].join("\n"),
    // Refuses every connection: retried with backoff until the call deadline, then suspended.
    [
      "kind: io.statefun.endpoints.v2/http",
      "spec:",
      "  functions: refused/*",
      "  urlPathTemplate: http://127.0.0.1:1/{function.name}",
    ].join("\n"),
    "kind: io.statefun.playground.v1/ingress\nspec: { port: 0 }",
  );
  const dataDir = join(dir, "data");
  const cli = spawnCli(t, ["run", file, "--data-dir", dataDir, "--no-admin", "--drain-timeout", "1s"]);
  const [, ingress] = await cli.waitFor(/ingress\s+(http:\/\/127\.0\.0\.1:\d+)\//, "the ingress URL");
  for (const fn of ["hang/f", "refused/f"]) {
    for (const id of ["a", "b"]) {
      const response = await fetch(`${ingress}/${fn}/${id}`, { method: "POST", body: "x" });
      assert.equal(response.status, 202);
    }
  }
  // Let the batches go out and the refused ones start retrying.
  await new Promise((resolve) => setTimeout(resolve, 1500));

  cli.process.kill("SIGTERM");
  // The bound: 1 s of drain plus a few seconds to end calls and close; without it, the
  // process lived until the calls' 60 s deadline.
  assert.equal(await cli.exitWithin(15_000), 0, cli.stderr());
  assert.match(cli.stdout(), /SIGTERM: draining/);

  const store = Store.open(dataDir);
  t.after(() => store.close());
  assert.equal(store.messages.count(), 4, "the unapplied messages are still stored for the next start");
});

test("a bad --drain-timeout is refused with the duration syntax", async (t) => {
  const dir = tempDir(t);
  const file = writeModuleYaml(dir, "kind: io.statefun.playground.v1/ingress\nspec: { port: 0 }");
  const cli = spawnCli(t, [
    "run",
    file,
    "--data-dir",
    join(dir, "data"),
    "--no-admin",
    "--drain-timeout",
    "soon",
  ]);
  assert.equal(await cli.exitWithin(30_000), 1);
  assert.match(cli.stderr(), /--drain-timeout: "soon" is not a duration/);
});
