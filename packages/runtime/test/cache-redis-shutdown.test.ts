import assert from "node:assert/strict";
import { test } from "node:test";
import type { Logger } from "../src/dispatch/logger.js";
import { Runtime } from "../src/runtime.js";
import { UNREACHABLE_TEST_ENDPOINT, writeModuleYaml } from "./support/module-yaml.js";
import { freePort, RedisProcess } from "./support/redis-process.js";
import { tempDir } from "./support/temp-dir.js";
import { until } from "./support/until.js";

/** How the waits in this file poll. */
const POLL = { timeoutMs: 5000, intervalMs: 25 };

interface LogLine {
  readonly level: string;
  readonly message: string;
}

/** Keeps every line logged through it and its children. */
function recordingLogger(lines: LogLine[]): Logger {
  const record = (level: string) => (_object: object, message?: string) => {
    lines.push({ level, message: message ?? "" });
  };
  const logger: Logger = {
    info: record("info"),
    warn: record("warn"),
    error: record("error"),
    debug: record("debug"),
    child: () => logger,
  };
  return logger;
}

async function readiness(admin: string): Promise<{ status: number; cache: unknown }> {
  const response = await fetch(`${admin}/readyz`);
  const body = (await response.json()) as { checks: { cache?: unknown } };
  return { status: response.status, cache: body.checks.cache };
}

test("a clean Redis shutdown logs once and makes the runtime not ready until Redis is back", async (t) => {
  const redis = new RedisProcess(await freePort());
  await redis.start();
  t.after(() => redis.kill());
  const lines: LogLine[] = [];
  const yaml = writeModuleYaml(
    tempDir(t),
    UNREACHABLE_TEST_ENDPOINT,
    `kind: io.switchboard.cache.v1/redis\nspec:\n  url: ${redis.url}\n  maxReconnectDelay: 50ms\n`,
  );
  const runtime = await Runtime.start({
    modules: [yaml],
    dataDir: tempDir(t),
    adminPort: 0,
    logger: recordingLogger(lines),
  });
  t.after(() => runtime.stop());
  const admin = runtime.ops.adminUrl!;
  assert.deepEqual(await readiness(admin), { status: 200, cache: true });
  const lost = () => lines.filter((line) => line.level === "warn" && /lost Redis/.test(line.message));
  const connected = () => lines.filter((line) => /connected to Redis/.test(line.message));
  assert.equal(connected().length, 1);

  await redis.shutdown();
  await until("readiness to turn false", async () => (await readiness(admin)).status === 503, POLL);
  assert.deepEqual(await readiness(admin), { status: 503, cache: false });
  // Several refused reconnects (50 ms apart) happen meanwhile; none of them logs again.
  const attemptsBefore = lines.filter((line) => line.level === "debug").length;
  await until(
    "reconnect attempts",
    async () => lines.filter((line) => line.level === "debug").length >= attemptsBefore + 3,
    POLL,
  );
  assert.equal(lost().length, 1, JSON.stringify(lines));
  assert.equal(
    lines.filter((line) => line.level === "warn" || line.level === "error").length,
    1,
    "one line for the outage, not one per reconnect attempt",
  );

  await redis.start();
  await until("readiness to come back", async () => (await readiness(admin)).status === 200, POLL);
  assert.deepEqual(await readiness(admin), { status: 200, cache: true });
  assert.equal(connected().length, 2, "one line when Redis is back");
  assert.equal(lost().length, 1);
});
