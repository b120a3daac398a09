import assert from "node:assert/strict";
import { test } from "node:test";
import { moduleDoc, startHost } from "./support/start-host.js";

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

/** Asks until a replaced worker answers (bounded): while none listens the port is briefly handed over. */
async function answered(url: string): Promise<Response | undefined> {
  let after: Response | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    after = await fetch(`${url}/echo-text`, { method: "POST", body: "still here" }).catch(() => undefined);
    if (after?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return after;
}

/**
 * What a client sees of a request whose worker was lost (stuck, or out of memory). On the
 * worker path that worker held the connection itself, so replacing it cuts the connection
 * and no thread is left to answer (docs/host.md, "Which thread serves"); on the main-thread
 * path the host answers `status` with `code`.
 */
async function assertWorkerLost(
  runtime: Awaited<ReturnType<typeof startHost>>["runtime"],
  outcome: Response | Error,
  status: number,
  code: string,
): Promise<void> {
  if (runtime.host.listeners[0]?.path === "workers") {
    assert.ok(outcome instanceof Error, "the connection is cut");
    return;
  }
  assert.ok(outcome instanceof Response);
  assert.equal(outcome.status, status);
  assert.equal(await errorCode(outcome), code);
}

test("a function looping forever fails with a timeout; its worker is replaced and the host keeps serving", async (t) => {
  const { url, runtime } = await startHost(t, [moduleDoc(["limits: { timeout: 300ms }"])]);
  const started = Date.now();
  const stuck = await fetch(`${url}/loops`).catch((error: Error) => error);
  await assertWorkerLost(runtime, stuck, 504, "SB_HOST_TIMEOUT");
  assert.ok(Date.now() - started < 20_000);
  // The only worker was stuck; a replacement answers.
  const after = await answered(url);
  assert.equal(after?.status, 200);
  assert.equal(await after?.text(), "got still here");
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
  const { url, runtime } = await startHost(t, [moduleDoc(["limits: { memory: 64, timeout: 60s }"])]);
  const hog = await fetch(`${url}/hogs`).catch((error: Error) => error);
  await assertWorkerLost(runtime, hog, 500, "SB_HOST_OUT_OF_MEMORY");
  const after = await answered(url);
  assert.equal(after?.status, 200);
});
