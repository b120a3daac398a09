/**
 * A function endpoint failing while a thousand addresses receive messages, against a real
 * `switchboard run` process: other functions keep flowing, memory and the log stay bounded,
 * SIGTERM exits within the drain bound, and after a restart with the endpoint back every
 * acknowledged message is applied exactly once.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Runtime } from "../src/runtime.js";
import { startFunctionServer } from "./support/function-server.js";
import { PLAYGROUND_INGRESS, writeModuleYaml } from "./support/module-yaml.js";
import { decodeInt, encodeInt, INT, ProtocolFunction } from "./support/protocol-function.js";
import { tempDir } from "./support/temp-dir.js";
import { until } from "./support/until.js";

const cli = new URL("../src/cli/main.ts", import.meta.url).pathname;

function residentMegabytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("VmRSS:"));
  return Number(/(\d+)/.exec(line ?? "")?.[1] ?? 0) / 1024;
}

function endpoint(namespace: string, url: string): string {
  return [
    "kind: io.statefun.endpoints.v2/http",
    "spec:",
    `  functions: ${namespace}/*`,
    `  urlPathTemplate: ${url}/{function.name}`,
  ].join("\n");
}

test("switchboard run with a failing endpoint and a thousand backlogged addresses: others flow, memory and log stay bounded, SIGTERM exits in time, all applied once after restart", async (t) => {
  const failing = await startFunctionServer({
    "down/counter": new ProtocolFunction([{ name: "count", typename: INT }]),
  });
  let upInvocations = 0;
  const healthy = await startFunctionServer({
    "up/counter": new ProtocolFunction([{ name: "count", typename: INT }], (state) => {
      upInvocations++;
      state.set("count", encodeInt(decodeInt(state.get("count")) + 1));
    }),
  });
  t.after(() => Promise.all([failing.close(), healthy.close()]));
  failing.down = true;

  const dir = tempDir(t);
  const file = writeModuleYaml(
    dir,
    endpoint("down", failing.url),
    endpoint("up", healthy.url),
    PLAYGROUND_INGRESS,
  );
  const dataDir = join(dir, "data");
  const child = spawn(
    process.execPath,
    ["--conditions=development", "--import", "tsx", cli, "run", file, "--data-dir", dataDir, "--no-admin"],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SWITCHBOARD_LOG_LEVEL: "warn" } },
  );
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await until(
    "the runtime to start",
    () => output.includes("switchboard is running") || child.exitCode !== null,
    { timeoutMs: 30_000, intervalMs: 20 },
  );
  const ingress = /ingress\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(output)?.[1];
  assert.ok(ingress, `the ingress URL is printed:\n${output}`);
  const loggedBefore = output.length;

  const sent = new Map<string, number>();
  const post = async (fn: string, id: string) => {
    const key = `${fn}/${id}`;
    const value = (sent.get(key) ?? 0) + 1;
    sent.set(key, value);
    const response = await fetch(`${ingress}/${fn}/${id}`, {
      method: "POST",
      headers: { "content-type": `application/vnd.${INT}` },
      body: encodeInt(value),
    });
    await response.arrayBuffer();
    return response.status;
  };
  const ids = Array.from({ length: 1000 }, (_, index) => `k${index}`);
  for (let round = 0; round < 2; round++) {
    for (let start = 0; start < ids.length; start += 50) {
      const statuses = await Promise.all(ids.slice(start, start + 50).map((id) => post("down/counter", id)));
      assert.ok(
        statuses.every((status) => status === 202),
        "ingress keeps accepting for the failing endpoint",
      );
    }
  }
  for (let index = 0; index < 100; index++) assert.equal(await post("up/counter", `u${index % 20}`), 202);
  await until("the healthy endpoint's addresses to be served during the outage", () => upInvocations >= 20, {
    timeoutMs: 30_000,
    intervalMs: 20,
  });
  const rss = residentMegabytes(child.pid as number);
  assert.ok(rss < 400, `resident memory stays bounded during the outage (${rss.toFixed(0)} MB)`);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const outageLines = output
    .slice(loggedBefore)
    .split("\n")
    .filter((line) => line.trim().length > 0);
  assert.match(outageLines.join("\n"), /endpoint failing/, "the endpoint's failure is logged, once");
  assert.ok(
    outageLines.length <= 10,
    `a bounded log for one failing endpoint (${outageLines.length} lines):\n${outageLines.slice(0, 20).join("\n")}`,
  );

  const stopAsked = Date.now();
  child.kill("SIGTERM");
  assert.equal(await exited, 0, `exit code:\n${output.slice(-2000)}`);
  const stopMs = Date.now() - stopAsked;
  t.diagnostic(
    `outage: RSS ${rss.toFixed(0)} MB, ${outageLines.length} log lines; SIGTERM to exit ${stopMs} ms`,
  );
  assert.ok(stopMs < 15_000, `SIGTERM exits within the drain bound (${stopMs} ms)`);

  // Restarted with the endpoint back: every acknowledged message is applied exactly once.
  failing.down = false;
  const runtime = await Runtime.start({ modules: [file], dataDir });
  t.after(() => runtime.stop());
  await until("the stored backlog to drain", () => runtime.store.messages.count() === 0, {
    timeoutMs: 60_000,
    intervalMs: 20,
  });
  await runtime.dispatcher.settled();
  for (const [key, expected] of sent) {
    const slash = key.lastIndexOf("/");
    const count = decodeInt(
      runtime.store.state.read({ fn: key.slice(0, slash), id: key.slice(slash + 1) }, Date.now()).get("count")
        ?.value,
    );
    assert.equal(count, expected, `${key} applied exactly once per message`);
  }
});
