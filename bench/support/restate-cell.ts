/**
 * One Restate cell of `npm run bench -- restate`: a fresh restate-server (restate-server.ts),
 * the Counter virtual object in its own Node process (restate-counter-service.mjs), closed-loop
 * load on the ingress, either one-way durable sends (`/Counter/<key>/add/send`, answered once
 * the invocation is logged) or request-response calls (`/Counter/<key>/add`, answered once it
 * ran), then a wait until the counters' sum reaches what ingress accepted. applied/s counts over
 * the whole time, drain included, as the Switchboard cell does. The optional warm-up uses
 * request-response calls in both modes: they run the same handler, and leave no backlog behind.
 */
import { cpuPercentSince, cpuSnapshot } from "./cpu-time.js";
import { runLoad } from "./load.js";
import { type LoadResult, startServerProcess, stopProcess } from "./processes.js";
import type { RestateInstall } from "./restate-install.js";
import { counterSum, registerDeployment, startRestateServer } from "./restate-server.js";

export type RestateMode = "send" | "call";

export interface RestateCell {
  load: LoadResult;
  applied: number;
  appliedPerSecond: number;
  /** Invocations accepted but not yet applied when the drain gave up (0 when drained). */
  backlog: number;
  /** % of one core for restate-server and the SDK process; machine: 200 % = both cores */
  cpu: { machine: number; processes: Record<string, number> };
}

const DRAIN_POLL_MS = 100;

export async function restateCell(
  install: RestateInstall,
  mode: RestateMode,
  keys: number,
  concurrency: number,
  durationMs: number,
  drainLimitMs: number,
  warmupMs = 0,
): Promise<RestateCell> {
  const server = await startRestateServer(install.serverBinary);
  try {
    // With RESTATE_LOGGING=INFO the SDK measured 14 % slower (shared/reference/restate.md); ERROR
    // also quiets its warning that requests are not signed, which on loopback they need not be.
    const service = await startServerProcess("restate-counter-service.mjs", [install.sdkEntry], {
      ...process.env,
      RESTATE_LOGGING: "ERROR",
    });
    try {
      await registerDeployment(server.adminUrl, `http://127.0.0.1:${service.port}`);
      await waitUntilServed(server.ingressUrl);
      const url = `${server.ingressUrl}/Counter`;
      if (warmupMs > 0) await runLoad(url, keys, concurrency, warmupMs, "application/json", "/add");
      // Calls cut off by the end of the warm-up still finish; wait for them to count them out.
      const appliedBefore = await settledSum(server.adminUrl);
      const pids = { "restate-server": server.child.pid, "restate SDK": service.child.pid };
      const before = cpuSnapshot(pids);
      const suffix = mode === "send" ? "/add/send" : "/add";
      const load = await runLoad(url, keys, concurrency, durationMs, "application/json", suffix);
      const drainDeadline = Date.now() + drainLimitMs;
      let applied = (await counterSum(server.adminUrl)) - appliedBefore;
      while (applied < load.ok && Date.now() < drainDeadline) {
        await sleep(DRAIN_POLL_MS);
        applied = (await counterSum(server.adminUrl)) - appliedBefore;
      }
      const cpu = cpuPercentSince(before, pids);
      const elapsedMs = Date.now() - before.at;
      return {
        load,
        applied,
        appliedPerSecond: (applied / elapsedMs) * 1000,
        backlog: Math.max(0, load.ok - applied),
        cpu,
      };
    } finally {
      await stopProcess(service.child);
    }
  } finally {
    await server.stop();
  }
}

/** The counters' sum once it stopped moving for a few polls. */
async function settledSum(adminUrl: string): Promise<number> {
  let previous = -1;
  let sum = await counterSum(adminUrl);
  for (let still = 0; still < 3; still = sum === previous ? still + 1 : 0) {
    await sleep(DRAIN_POLL_MS);
    previous = sum;
    sum = await counterSum(adminUrl);
  }
  return sum;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Registration is visible to the ingress a moment after the admin API answers; wait for it. */
async function waitUntilServed(ingressUrl: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${ingressUrl}/Counter/warm-up/get`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "null",
    }).catch(() => undefined);
    if (response?.ok) return;
    await sleep(100);
  }
  throw new Error(`Restate ingress at ${ingressUrl} does not serve Counter`);
}
