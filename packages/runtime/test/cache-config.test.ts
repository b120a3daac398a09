/** The cache component kinds: YAML in, a working Cache out; mistakes reported at their line. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { test } from "node:test";
import { registerCacheKinds } from "../src/cache/cache-kinds.js";
import { createCacheFromConfig } from "../src/cache/create-cache.js";
import { defaultRegistry, loadModuleText } from "../src/config/index.js";
import type { ModuleConfig } from "../src/config/model.js";
import { CacheErrors } from "../src/errors/cache-errors.js";
import { ConfigErrors } from "../src/errors/config-errors.js";
import { isError } from "../src/errors/switchboard-error.js";
import { Runtime } from "../src/runtime.js";
import { UNREACHABLE_TEST_ENDPOINT, writeModuleYaml } from "./support/module-yaml.js";
import { tempDir } from "./support/temp-dir.js";

function load(yaml: string) {
  return loadModuleText(yaml, "m.yaml", registerCacheKinds(defaultRegistry()));
}

function configOf(yaml: string): ModuleConfig {
  const result = load(yaml);
  assert.ok(result.ok, result.ok ? "" : result.errors.map((error) => error.message).join("\n"));
  return result.config;
}

test("a Redis cache component gives a Redis-backed cache with its scope, TTL and limits", async () => {
  const prefix = `switchboard-test:${process.pid}:${randomBytes(4).toString("hex")}:`;
  const config = configOf(
    [
      "kind: io.switchboard.cache.v1/redis",
      "spec:",
      "  url: redis://127.0.0.1:6379",
      `  keyPrefix: "${prefix}"`,
      "  application: shop",
      "  defaultTtl: 5 min",
      "  maxValueBytes: 100",
      "  commandTimeout: 500ms",
      "",
    ].join("\n"),
  );
  assert.deepEqual(config.components[0]?.spec, {
    url: "redis://127.0.0.1:6379",
    keyPrefix: prefix,
    application: "shop",
    defaultTtl: 300_000,
    maxValueBytes: 100,
    maxKeyBytes: 1024,
    commandTimeout: 500,
    connectTimeout: 2000,
    maxReconnectDelay: 1000,
  });
  const cache = await createCacheFromConfig(config);
  try {
    assert.equal(cache.backendKind, "redis");
    assert.equal(cache.application, "shop");
    await cache.set("k", "v");
    const entry = await cache.getEntry("k");
    assert.ok(entry && entry.ttlRemainingMs > 200_000 && entry.ttlRemainingMs <= 300_000);
    await assert.rejects(cache.set("k", new Uint8Array(101)), (error: unknown) =>
      isError(error, CacheErrors.VALUE_TOO_LARGE),
    );
    assert.equal(await cache.delete("k"), true);
  } finally {
    await cache.close();
  }
});

test("without a cache component the cache lives in memory with the defaults", async () => {
  const cache = await createCacheFromConfig({ components: [] });
  assert.equal(cache.backendKind, "memory");
  assert.equal(cache.application, "default");
  assert.equal(cache.defaultTtlMs, 60_000);
  assert.equal(cache.maxValueBytes, 1024 * 1024);
  await cache.close();
  const configured = await createCacheFromConfig(
    configOf(
      "kind: io.switchboard.cache.v1/memory\nspec: { defaultTtl: 250ms, maxTotalBytes: 4096, maxValueBytes: 1000 }\n",
    ),
  );
  assert.equal(configured.defaultTtlMs, 250);
  assert.equal(configured.maxValueBytes, 1000);
  await configured.close();
});

test("cache settings that make no sense are refused at their line", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["kind: io.switchboard.cache.v1/memory\nspec:\n  defaultTtl: 5 mins\n", "3:15", /not a time unit/],
    ["kind: io.switchboard.cache.v1/memory\nspec:\n  defaultTtl: 0\n", "3:15", /above 0/],
    [
      "kind: io.switchboard.cache.v1/memory\nspec:\n  maxTotalBytes: 10\n  maxValueBytes: 100\n",
      "4:18",
      /maxValueBytes must be below maxTotalBytes/,
    ],
    ["kind: io.switchboard.cache.v1/memory\nspec:\n  application: a/b\n", "3:16", /without '\/'/],
    ["kind: io.switchboard.cache.v1/redis\nspec:\n  url: http://127.0.0.1:6379\n", "3:8", /redis:\/\//],
    ["kind: io.switchboard.cache.v1/redis\nspec:\n  application: x\n", "3:3", /required/],
  ];
  for (const [yaml, position, message] of cases) {
    const result = load(yaml);
    assert.equal(result.ok, false, yaml);
    const [error] = result.ok ? [] : result.errors;
    assert.equal(`${error?.source.line}:${error?.source.col}`, position, `${yaml} -> ${error?.message}`);
    assert.match(error?.message ?? "", message);
  }
});

test("two cache components are a configuration error naming both", async () => {
  const config = configOf(
    "kind: io.switchboard.cache.v1/memory\nspec: {}\n---\nkind: io.switchboard.cache.v1/memory\nspec: {}\n",
  );
  await assert.rejects(createCacheFromConfig(config), (error: unknown) => {
    assert.ok(isError(error, ConfigErrors.INVALID));
    assert.match(error.message, /m\.yaml:4:1 a second cache component; the first is at m\.yaml:1:1/);
    return true;
  });
});

test("the runtime creates its cache at start and closes it at stop", async (t) => {
  const dir = tempDir(t);
  const file = writeModuleYaml(
    dir,
    UNREACHABLE_TEST_ENDPOINT,
    [
      "kind: io.switchboard.cache.v1/memory",
      "spec: { application: shop, maxTotalBytes: 1048576, maxValueBytes: 1024 }",
    ].join("\n"),
  );
  const runtime = await Runtime.start({ modules: [file], dataDir: join(dir, "data") });
  let stopped = false;
  t.after(() => (stopped ? undefined : runtime.stop()));
  assert.equal(runtime.cache.application, "shop");
  assert.equal(text(await runtime.cache.getOrSet("k", 1000, () => "loaded")), "loaded");
  await runtime.stop();
  stopped = true;
  await assert.rejects(runtime.cache.get("k"), (error: unknown) => isError(error, CacheErrors.CLOSED));
});

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString();
}
