import assert from "node:assert/strict";
import { test } from "node:test";
import { moduleDoc, startHost } from "./support/start-host.js";

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

test("a function looping forever fails with a timeout; its worker is replaced and the host keeps serving", async (t) => {
  const { url } = await startHost(t, [moduleDoc(["limits: { timeout: 300ms }"])]);
  const started = Date.now();
  const stuck = await fetch(`${url}/loops`);
  assert.equal(stuck.status, 504);
  assert.equal(await errorCode(stuck), "SB_HOST_TIMEOUT");
  assert.ok(Date.now() - started < 20_000);
  // The only worker was stuck; a replacement answers.
  const after = await fetch(`${url}/echo-text`, { method: "POST", body: "still here" });
  assert.equal(after.status, 200);
  assert.equal(await after.text(), "got still here");
});

test("a slow function times out alone; other invocations on the same worker finish", async (t) => {
  const { url } = await startHost(t, [moduleDoc(["limits: { timeout: 400ms }"])]);
  const [slow, quick] = await Promise.all([
    fetch(`${url}/slow`, { method: "POST", body: "5000" }),
    fetch(`${url}/slow`, { method: "POST", body: "10" }),
  ]);
  assert.equal(slow.status, 504);
  assert.equal(await errorCode(slow), "SB_HOST_TIMEOUT");
  assert.equal(quick.status, 200);
  assert.equal(await quick.text(), "done");
});

test("a function exhausting its memory fails clearly; the worker is replaced", async (t) => {
  const { url } = await startHost(t, [moduleDoc(["limits: { memory: 64, timeout: 60s }"])]);
  const hog = await fetch(`${url}/hogs`);
  assert.equal(hog.status, 500);
  assert.equal(await errorCode(hog), "SB_HOST_OUT_OF_MEMORY");
  let after: Response | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    after = await fetch(`${url}/echo-text`, { method: "POST", body: "x" });
    if (after.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(after?.status, 200);
});
