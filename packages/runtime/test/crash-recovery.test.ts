/**
 * Kills a real `switchboard run` process with SIGKILL in the middle of a load, restarts it
 * on the same data directory, and proves that every acknowledged message was applied to
 * state exactly once (and nothing was applied twice).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { openSqlite } from "../src/store/sqlite-driver.js";
import { freePort, startFunctionServer } from "./support/function-server.js";
import { ProtocolFunction } from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";

const CLI = new URL("../src/cli/main.ts", import.meta.url).pathname;
const APPLIED = "test/applied";
const KEYS = 16;
const MESSAGES = 480;

function startRuntime(moduleFile: string, dataDir: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      ...["--conditions=development", "--import", "tsx", CLI, "run", moduleFile, "--data-dir", dataDir],
      ...["--admin-port", "0"],
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, SWITCHBOARD_LOG_LEVEL: "warn" },
    },
  );
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`runtime did not start:\n${output}`)), 20_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("switchboard is running")) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`runtime exited with ${code}:\n${output}`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()));
}

test("after kill -9 mid-load, every acknowledged message is applied to state exactly once", {
  timeout: 120_000,
}, async (t) => {
  const dir = tempDir(t);
  const appliedIds = new ProtocolFunction([{ name: "applied", typename: APPLIED }], (state, invocation) => {
    const list = JSON.parse(Buffer.from(state.get("applied") ?? Buffer.from("[]")).toString()) as number[];
    list.push(Number(Buffer.from(invocation.argument?.value ?? []).toString()));
    state.set("applied", Buffer.from(JSON.stringify(list)));
  });
  const server = await startFunctionServer({ "test/ledger": appliedIds });
  t.after(() => server.close());
  const ingressPort = await freePort();
  const moduleFile = join(dir, "module.yaml");
  writeFileSync(
    moduleFile,
    [
      "kind: io.statefun.endpoints.v2/http",
      "spec:",
      "  functions: test/*",
      `  urlPathTemplate: ${server.url}/{function.name}`,
      "  transport:",
      "    type: io.statefun.transports.v1/async",
      "    call: 10s",
      "---",
      "kind: io.statefun.playground.v1/ingress",
      "spec:",
      `  port: ${ingressPort}`,
      "",
    ].join("\n"),
  );
  const dataDir = join(dir, "data");

  let runtime = await startRuntime(moduleFile, dataDir);
  t.after(() => runtime.kill("SIGKILL"));
  const acknowledged = new Set<number>();
  const send = async (id: number): Promise<void> => {
    try {
      const response = await fetch(`http://127.0.0.1:${ingressPort}/test/ledger/key-${id % KEYS}`, {
        method: "POST",
        headers: { "content-type": `application/vnd.${APPLIED}-entry` },
        body: String(id),
      });
      if (response.status === 202) acknowledged.add(id);
    } catch {
      // The runtime is down: not acknowledged, so not promised.
    }
  };

  let next = 0;
  let killed = false;
  const workers = Array.from({ length: 16 }, async () => {
    while (next < MESSAGES) {
      const id = next++;
      await send(id);
      if (!killed && acknowledged.size >= MESSAGES / 3) {
        killed = true;
        runtime.kill("SIGKILL");
      }
    }
  });
  await Promise.all(workers);
  assert.ok(killed, "the runtime was killed mid-load");
  await exited(runtime);
  const beforeRestart = acknowledged.size;

  runtime = await startRuntime(moduleFile, dataDir);
  // Messages refused while the runtime was down are sent again under fresh ids: one whose
  // 202 was lost may still have been stored, and the same id twice would look like a
  // double application when it is really a client retry.
  const unacknowledged = Array.from({ length: MESSAGES }, (_, id) => id).filter(
    (id) => !acknowledged.has(id),
  );
  for (const id of unacknowledged) await send(MESSAGES + id);
  assert.equal(acknowledged.size, MESSAGES, "every resent message is acknowledged after the restart");
  assert.ok(beforeRestart < MESSAGES);

  const reader = openSqlite(join(dataDir, "switchboard.db"), { readonly: true });
  t.after(() => reader.close());
  const pending = () => (reader.prepare("SELECT count(*) AS n FROM messages").get() as { n: number }).n;
  for (let i = 0; i < 300 && pending() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(pending(), 0, "every stored message was consumed");

  runtime.kill("SIGTERM");
  await exited(runtime);

  const applied = new Map<number, number>();
  for (const row of reader.prepare("SELECT value FROM state WHERE fn = 'test/ledger'").all() as Array<{
    value: Buffer;
  }>) {
    for (const id of JSON.parse(row.value.toString()) as number[])
      applied.set(id, (applied.get(id) ?? 0) + 1);
  }
  const duplicates = [...applied].filter(([, times]) => times > 1).map(([id]) => id);
  assert.deepEqual(duplicates, [], "no message was applied twice");
  const lost = [...acknowledged].filter((id) => !applied.has(id));
  assert.deepEqual(lost, [], "no acknowledged message was lost");
  const invented = [...applied.keys()].filter((id) => id < 0 || id >= 2 * MESSAGES);
  assert.deepEqual(invented, [], "only sent messages were applied");
});
