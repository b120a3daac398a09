/** One rule for namespace, name and id: what ingress accepts, YAML binds and the admin API can name. */
import assert from "node:assert/strict";
import { request } from "node:http";
import { test } from "node:test";
import { defaultRegistry } from "../src/config/component-registry.js";
import { loadModuleText } from "../src/config/load-modules.js";
import { registerHostKinds } from "../src/host/host-kinds.js";
import { startOpsFixture } from "./support/ops-fixture.js";

/** Module YAML "beside" the test fixtures, so `module: ./host/web-module.ts` exists. */
const MODULE_YAML = new URL("./support/m.yaml", import.meta.url).pathname;

/** A request sent with its path exactly as written (fetch would resolve `.` and `..` first). */
function rawRequest(base: string, method: string, path: string): Promise<{ status: number; code?: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: hostname, port, method, path }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        let code: string | undefined;
        try {
          code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
        } catch {}
        resolve({ status: response.statusCode ?? 0, ...(code ? { code } : {}) });
      });
    });
    outgoing.on("error", reject);
    outgoing.end(method === "POST" ? "x" : undefined);
  });
}

test("ingress refuses a * name, . and .. ids, control characters and whitespace in names, storing nothing", async (t) => {
  const fx = await startOpsFixture(t);
  for (const path of [
    "/test/*/x",
    "/test/counter/..",
    "/test/counter/.",
    "/test/counter/%2E%2E",
    "/test/counter/a%00b",
    "/te%20st/counter/x",
    "/test/coun%09ter/x",
  ]) {
    assert.deepEqual(
      await rawRequest(fx.ingress, "POST", path),
      { status: 400, code: "SB_INGRESS_BAD_PATH" },
      path,
    );
  }
  assert.equal(fx.runtime.store.messages.count(), 0);
  // Ids are otherwise free: spaces and an encoded slash are fine, and the admin API names them.
  for (const id of ["a%20b", "a%2Fb", "..."]) {
    assert.equal((await rawRequest(fx.ingress, "POST", `/test/profile/${id}`)).status, 202, id);
    assert.equal((await rawRequest(fx.admin, "GET", `/api/addresses/test/profile/${id}`)).status, 200, id);
  }
});

test("the admin API refuses the same names with SB_ADMIN_BAD_REQUEST", async (t) => {
  const fx = await startOpsFixture(t);
  for (const path of [
    "/api/addresses/test/*/x",
    "/api/addresses/test/counter/a%00b",
    "/api/addresses/te%20st/x/y",
  ]) {
    assert.deepEqual(
      await rawRequest(fx.admin, "GET", path),
      { status: 400, code: "SB_ADMIN_BAD_REQUEST" },
      path,
    );
  }
});

test("module YAML refuses the same names in functions patterns, endpoint and module alike", () => {
  for (const pattern of ['"a b/c"', '"a/b c"', "./*", "a/..", '"a/b\\tc"']) {
    const result = loadModuleText(
      `kind: io.statefun.endpoints.v2/http\nspec:\n  functions: ${pattern}\n  urlPathTemplate: http://h/\n`,
      MODULE_YAML,
    );
    assert.equal(result.ok, false, pattern);
    assert.equal(result.ok ? undefined : result.errors[0]?.code, "SB_CONFIG_BAD_FUNCTIONS_PATTERN", pattern);
  }
  for (const pattern of ["a*/b", "a/./b", "ns/.."]) {
    const result = loadModuleText(
      `kind: io.switchboard.functions.v1/module\nspec: { module: ./host/web-module.ts, functions: ["${pattern}"] }\n`,
      MODULE_YAML,
      registerHostKinds(defaultRegistry()),
    );
    assert.equal(result.ok, false, pattern);
    assert.match(result.ok ? "" : (result.errors[0]?.message ?? ""), /namespace|name/, pattern);
  }
});
