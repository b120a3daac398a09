/**
 * One function endpoint going down while many addresses receive messages, measured against
 * the same runtime with the endpoint up, in the same run:
 *
 * 1. before: ingress to the endpoint's function (100k random keys) and to another function
 *    (1000 random keys), both endpoints up;
 * 2. outage: the same load with the first endpoint's server stopped (connections refused):
 *    ingress rates as a ratio to (1), RSS, calls in flight, log lines;
 * 3. drain: the server back on the same port; how fast the stored backlog is applied;
 * 4. start-up: time until ingress answers with N messages queued (default 1M) vs an empty
 *    store, with the endpoint down, and RSS a few seconds later.
 *
 *   npm run bench -- endpoint-outage [durationMs=5000] [queued=1000000]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "../packages/runtime/src/dispatch/logger.js";
import { Runtime } from "../packages/runtime/src/runtime.js";
import { Store } from "../packages/runtime/src/store/store.js";
import { loadGenerator, runLoad } from "./support/load.js";
import { startServerProcess, stopProcess } from "./support/processes.js";

const durationMs = Number(process.argv[2] ?? 5000);
const queuedForStartup = Number(process.argv[3] ?? 1_000_000);
const OUTAGE_KEYS = 100_000;
const OTHER_KEYS = 1000;
const CONCURRENCY = 32;

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts the runtime's warning and error lines (what would reach an operator's log). */
function countingLogger(): { logger: Logger; lines: () => number } {
  let lines = 0;
  const logger: Logger = {
    info() {},
    debug() {},
    warn() {
      lines++;
    },
    error() {
      lines++;
    },
    child: () => logger,
  };
  return { logger, lines: () => lines };
}

function writeModule(dir: string, outagePort: number, otherPort: number, ingressPort: number): string {
  const file = join(dir, "module.yaml");
  const endpoint = (namespace: string, port: number) => [
    "kind: io.statefun.endpoints.v2/http",
    "spec:",
    `  functions: ${namespace}/*`,
    `  urlPathTemplate: http://127.0.0.1:${port}/{function.name}`,
    "  transport:",
    "    type: io.statefun.transports.v1/async",
    "---",
  ];
  writeFileSync(
    file,
    [
      ...endpoint("outage", outagePort),
      ...endpoint("bench", otherPort),
      "kind: io.statefun.playground.v1/ingress",
      `spec: { port: ${ingressPort} }`,
      "",
    ].join("\n"),
  );
  return file;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

async function outageScenario(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-outage-"));
  let outageFn = await startServerProcess("sdk-counter-server.ts");
  const outagePort = outageFn.port;
  const otherFn = await startServerProcess("sdk-counter-server.ts");
  const ingressPort = 18000 + Math.floor(Math.random() * 1000);
  const { logger, lines } = countingLogger();
  const runtime = await Runtime.start({
    modules: [writeModule(dir, outagePort, otherFn.port, ingressPort)],
    dataDir: join(dir, "data"),
    logger,
  });
  const outageUrl = `http://127.0.0.1:${ingressPort}/outage/counter`;
  const otherUrl = `http://127.0.0.1:${ingressPort}/bench/counter`;
  try {
    const [beforeOutage, beforeOther] = await Promise.all([
      runLoad(outageUrl, OUTAGE_KEYS, CONCURRENCY, durationMs),
      runLoad(otherUrl, OTHER_KEYS, CONCURRENCY, durationMs),
    ]);
    await runtime.dispatcher.settled();
    const rssBefore = process.memoryUsage().rss;

    await stopProcess(outageFn.child);
    const linesBefore = lines();
    let mostInFlight = 0;
    const sampler = setInterval(() => {
      mostInFlight = Math.max(mostInFlight, runtime.dispatcher.stats().inFlight);
    }, 50);
    const [duringOutage, duringOther] = await Promise.all([
      runLoad(outageUrl, OUTAGE_KEYS, CONCURRENCY, durationMs),
      runLoad(otherUrl, OTHER_KEYS, CONCURRENCY, durationMs),
    ]);
    clearInterval(sampler);
    await until(() => runtime.dispatcher.stats().waitingForSlot === 0, 5000);
    const rssDuring = process.memoryUsage().rss;
    const outageLines = lines() - linesBefore;
    const queued = runtime.store.messages.count();

    outageFn = await startServerProcess("sdk-counter-server.ts", [String(outagePort)]);
    const drainStarted = Date.now();
    const drained = await until(() => runtime.store.messages.count() === 0, 300_000);
    const drainMs = Date.now() - drainStarted;
    const rssAfter = process.memoryUsage().rss;

    console.log(
      `endpoint-outage: ${durationMs} ms per phase, load from ${loadGenerator()} (c=${CONCURRENCY} per function), node ${process.version}`,
    );
    console.log("| | before (both up) | during outage | outage / before |");
    console.log("| --- | --- | --- | --- |");
    console.log(
      `| ingress to the failing function, accepted/s | ${beforeOutage.perSecond.toFixed(0)} | ${duringOutage.perSecond.toFixed(0)} | ${(duringOutage.perSecond / beforeOutage.perSecond).toFixed(2)} |`,
    );
    console.log(
      `| ingress to another function, accepted/s | ${beforeOther.perSecond.toFixed(0)} | ${duringOther.perSecond.toFixed(0)} | ${(duringOther.perSecond / beforeOther.perSecond).toFixed(2)} |`,
    );
    console.log(
      `| ingress p99 ms (failing / other) | ${beforeOutage.p99.toFixed(1)} / ${beforeOther.p99.toFixed(1)} | ${duringOutage.p99.toFixed(1)} / ${duringOther.p99.toFixed(1)} | |`,
    );
    console.log(`| RSS MB | ${mb(rssBefore)} | ${mb(rssDuring)} | ${(rssDuring / rssBefore).toFixed(2)} |`);
    console.log(
      `outage: most calls in flight ${mostInFlight}, ${outageLines} warning/error log lines, ${queued} messages queued at its end`,
    );
    console.log(
      `drain: ${drained ? "" : "NOT finished: "}${queued} messages in ${drainMs} ms = ${((queued / drainMs) * 1000).toFixed(0)}/s; RSS after ${mb(rssAfter)} MB`,
    );
  } finally {
    await runtime.stop(2000);
    await stopProcess(outageFn.child);
    await stopProcess(otherFn.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Time from Runtime.start() to the first 202 at ingress, with `queued` messages stored. */
async function startupScenario(queued: number): Promise<{ ms: number; rssMb: number }> {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-startup-"));
  const otherFn = await startServerProcess("sdk-counter-server.ts");
  const ingressPort = 18000 + Math.floor(Math.random() * 1000);
  // Port 1 refuses connections: the queued messages' endpoint is down throughout.
  const module = writeModule(dir, 1, otherFn.port, ingressPort);
  if (queued > 0) {
    const store = Store.open(join(dir, "data"), "normal");
    const now = Date.now();
    const value = new Uint8Array([8, 1]);
    for (let start = 0; start < queued; start += 100_000) {
      await store.commits.submit(() => {
        for (let index = start; index < Math.min(start + 100_000, queued); index++) {
          store.messages.insert(
            {
              target: { fn: "outage/counter", id: `k${index}` },
              argument: { typename: "x/y", hasValue: true, value },
            },
            now,
          );
        }
      });
    }
    store.close();
  }
  const { logger } = countingLogger();
  const started = Date.now();
  const runtime = await Runtime.start({ modules: [module], dataDir: join(dir, "data"), logger });
  try {
    for (;;) {
      const response = await fetch(`http://127.0.0.1:${ingressPort}/bench/counter/first`, {
        method: "POST",
        body: "1",
      }).catch(() => undefined);
      if (response?.status === 202) break;
      await sleep(5);
    }
    const ms = Date.now() - started;
    await sleep(3000);
    return { ms, rssMb: mb(process.memoryUsage().rss) };
  } finally {
    await runtime.stop(2000);
    await stopProcess(otherFn.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

await outageScenario();
const empty = await startupScenario(0);
const full = await startupScenario(queuedForStartup);
console.log("| start-up (endpoint down) | ingress answers after ms | RSS +3 s MB |");
console.log("| --- | --- | --- |");
console.log(`| empty store | ${empty.ms} | ${empty.rssMb} |`);
console.log(`| ${queuedForStartup} messages queued | ${full.ms} | ${full.rssMb} |`);
console.log(`start-up ratio (queued / empty): ${(full.ms / empty.ms).toFixed(2)}`);
