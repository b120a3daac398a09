import assert from "node:assert/strict";
import { test } from "node:test";
import { SdkErrors } from "@switchboard/sdk";
import * as catalog from "../src/errors/index.js";
import { SwitchboardError } from "../src/errors/index.js";

test("every error code in the catalog is unique and well formed", () => {
  const codes: string[] = [];
  for (const group of Object.values(catalog)) {
    if (typeof group !== "object" || group === null) continue;
    for (const definition of Object.values(group)) {
      if (typeof definition === "object" && definition !== null && "code" in definition) {
        codes.push((definition as { code: string }).code);
        assert.ok(Number.isInteger((definition as { status: number }).status));
      } else if (typeof definition === "string") {
        codes.push(definition);
      }
    }
  }
  codes.push(...Object.values(SdkErrors).map((definition) => definition.code));
  assert.ok(codes.length > 40);
  for (const code of codes) assert.match(code, /^SB_[A-Z]+(_[A-Z0-9]+)+$/);
  assert.deepEqual(
    codes.filter((code, index) => codes.indexOf(code) !== index),
    [],
  );
});

test("a SwitchboardError keeps its code, status and details and serialises without a stack", () => {
  const error = new SwitchboardError(catalog.DispatchErrors.BACKPRESSURE, "full", { address: "a/b/c" });
  assert.ok(error instanceof SwitchboardError);
  assert.equal(error.status, 429);
  assert.deepEqual(JSON.parse(JSON.stringify(error)), {
    code: "SB_DISPATCH_BACKPRESSURE",
    message: "full",
    details: { address: "a/b/c" },
  });
});
