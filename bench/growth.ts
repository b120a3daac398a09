/**
 * How cost grows with the work the store holds, against the small case in the same run. Three
 * cells, each a real `switchboard run` child on its own data directory, with the same load
 * (closed loop on the playground ingress to `bench/counter`, `loadKeys` random keys):
 *
 * - small: an empty store;
 * - addresses: `size` addresses of bench/counter holding state (the load's keys among them);
 * - queued: `size` messages queued for `outage/counter`, whose endpoint is down throughout.
 *
 * Per cell: ingress accepted/s and p50/p99, bench/counter applied/s (until everything the load
 * sent is applied), RSS at ready, at its peak under load and after; start-up (spawn -> running,
 * -> first 202, -> CPU quiet, and the CPU it took), each as a ratio to the small case. Then the
 * queued cell's endpoint comes back: how fast its backlog drains (over `drainMs`), and what
 * bench/counter sees meanwhile. The stores are filled directly (prefill-store.ts). The load
 * average is printed with each cell: the machine is shared.
 *
 *   npm run bench -- growth [durationMs=10000] [size=1000000] [loadKeys=size] [drainMs=60000] [concurrency=64] [cells=small,addresses,queued]
 *
 * drainMs=0 skips the drain. BENCH_GROWTH_PROFILE_DIR=<dir> writes each instance's CPU profile
 * there (read it with bench/support/profile-top.ts).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { cpuPercentSince, cpuSnapshot } from "./support/cpu-time.js";
import { type GrowthInstance, type StartUp, startGrowthInstance } from "./support/growth-instance.js";
import { loadGenerator, runLoad } from "./support/load.js";
import { type Prefill, prefillStore } from "./support/prefill-store.js";
import type { LoadResult } from "./support/processes.js";

const durationMs = Number(process.argv[2] ?? 10_000);
const size = Number(process.argv[3] ?? 1_000_000);
const loadKeys = Number(process.argv[4] ?? size);
const drainMs = Number(process.argv[5] ?? 60_000);
const concurrency = Number(process.argv[6] ?? 64);
const cells = new Set((process.argv[7] ?? "small,addresses,queued").split(","));
const LIVE = "bench/counter";
const PARKED = "outage/counter";
/** How long the applied count may take to catch up with what ingress accepted. */
const CATCH_UP_LIMIT_MS = 120_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const load1 = () => loadavg()[0]?.toFixed(2) ?? "-";

interface Measured {
  load: LoadResult;
  appliedPerSecond: number;
  /** load end -> every accepted bench/counter message applied */
  catchUpMs: number;
  rssPeakMb: number;
  rssAfterMb: number;
  /** the instance's CPU per bench/counter message applied (load and catch-up), ms */
  cpuMsPerMessage: number;
  /** the whole machine meanwhile, % (200 = both cores) */
  machineBusy: number;
  /** dispatch's figures once the load is applied */
  dispatcher: Record<string, number>;
}

/** Load on bench/counter, then wait until all of it is applied; RSS sampled throughout. */
async function measureLoad(instance: GrowthInstance, ms: number): Promise<Measured> {
  const before = (await instance.applied()).get(LIVE) ?? 0;
  const cpuBefore = cpuSnapshot({ runtime: instance.pid });
  let rssPeakMb = instance.rssMb();
  const sampler = setInterval(() => {
    rssPeakMb = Math.max(rssPeakMb, instance.rssMb());
  }, 250);
  try {
    const load = await runLoad(`${instance.ingressUrl}/${LIVE}`, loadKeys, concurrency, ms);
    const loadEnded = Date.now();
    let applied = 0;
    while (Date.now() - loadEnded < CATCH_UP_LIMIT_MS) {
      applied = ((await instance.applied()).get(LIVE) ?? 0) - before;
      if (applied >= load.ok) break;
      await sleep(50);
    }
    const done = Date.now();
    const cpu = cpuPercentSince(cpuBefore, { runtime: instance.pid });
    const cpuMs = ((cpu.processes.runtime ?? 0) * (done - cpuBefore.at)) / 100;
    return {
      load,
      // Over the load's own time (not its generator's start-up) and the catch-up after it.
      appliedPerSecond: (applied / (load.elapsedMs + done - loadEnded)) * 1000,
      catchUpMs: done - loadEnded,
      rssPeakMb,
      rssAfterMb: instance.rssMb(),
      cpuMsPerMessage: cpuMs / Math.max(1, applied),
      machineBusy: cpu.machine,
      dispatcher: await instance.dispatcherStats(),
    };
  } finally {
    clearInterval(sampler);
  }
}

interface Cell {
  name: string;
  loadAverage: string;
  prefillMs: number;
  startUp: StartUp;
  measured: Measured;
}

async function runCell(
  name: string,
  prefill: Prefill | undefined,
  afterwards?: (instance: GrowthInstance) => Promise<void>,
): Promise<Cell> {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-growth-"));
  const dataDir = join(dir, "data");
  try {
    const prefillMs = prefill ? prefillStore(dataDir, prefill) : 0;
    // The prefill's dirty pages go to disk now, not during the cell (where the instance's
    // fsyncs would wait behind them).
    execFileSync("sync");
    const loadAverage = load1();
    const instance = await startGrowthInstance(dataDir, dir);
    try {
      const measured = await measureLoad(instance, durationMs);
      await afterwards?.(instance);
      return { name, loadAverage, prefillMs, startUp: instance.startUp, measured };
    } finally {
      await instance.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Drain {
  loadAverage: string;
  /** endpoint started -> first parked message applied */
  firstAppliedMs: number | undefined;
  drained: number;
  perSecond: number;
  rssPeakMb: number;
  /** RSS every 10 s of the drain, MB: whether it levels off */
  rssEvery10s: number[];
  live: Measured;
}

/** The parked endpoint returns: its backlog's drain rate, and the live function's figures meanwhile. */
async function measureDrain(instance: GrowthInstance): Promise<Drain> {
  const loadAverage = load1();
  const before = (await instance.applied()).get(PARKED) ?? 0;
  await instance.startOutageEndpoint();
  const started = Date.now();
  let firstAppliedMs: number | undefined;
  let rssPeakMb = instance.rssMb();
  let drained = 0;
  const rssEvery10s: number[] = [];
  const sampler = setInterval(() => {
    rssPeakMb = Math.max(rssPeakMb, instance.rssMb());
    if (Date.now() - started >= (rssEvery10s.length + 1) * 10_000) rssEvery10s.push(instance.rssMb());
    void instance.applied().then((applied) => {
      drained = (applied.get(PARKED) ?? 0) - before;
      if (drained > 0 && firstAppliedMs === undefined) firstAppliedMs = Date.now() - started;
    });
  }, 250);
  try {
    // The live load begins once the drain is under way, so it measures the two sharing dispatch.
    while (firstAppliedMs === undefined && Date.now() - started < drainMs) await sleep(50);
    const live = await measureLoad(instance, durationMs);
    while (Date.now() - started < drainMs && drained < size) await sleep(250);
    const drainingMs = Date.now() - started - (firstAppliedMs ?? 0);
    return {
      loadAverage,
      firstAppliedMs,
      drained,
      perSecond: (drained / Math.max(1, drainingMs)) * 1000,
      rssPeakMb,
      rssEvery10s,
      live,
    };
  } finally {
    clearInterval(sampler);
  }
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? "-" : n.toFixed(digits);
const ratio = (n: number, base: number) => fmt(n / base, 2);

console.log(
  `growth: ${durationMs} ms of load per cell, size ${size}, ${loadKeys} load keys, c=${concurrency}, load from ${loadGenerator()}, node ${process.version}`,
);
const small = await runCell("small (empty store)", undefined);
const grown: Cell[] = [];
if (cells.has("addresses")) {
  grown.push(await runCell(`${size} addresses with state`, { state: { fn: LIVE, addresses: size } }));
}
let drain: Drain | undefined;
if (cells.has("queued")) {
  grown.push(
    await runCell(
      `${size} messages queued (endpoint down)`,
      { queued: { fn: PARKED, messages: size, addresses: size } },
      async (instance) => {
        if (drainMs > 0) drain = await measureDrain(instance);
      },
    ),
  );
}

console.log(
  "| cell | load avg | prefill s | accepted/s | applied/s | ingress p50 / p99 ms | catch-up ms | runtime CPU ms/msg | machine busy % | RSS ready / peak / after MB | running / first 202 / quiet ms | start-up CPU ms |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const cell of [small, ...grown]) {
  const { load } = cell.measured;
  const s = cell.startUp;
  console.log(
    `| ${cell.name} | ${cell.loadAverage} | ${fmt(cell.prefillMs / 1000, 1)} | ${fmt(load.perSecond)} | ${fmt(cell.measured.appliedPerSecond)} | ` +
      `${fmt(load.p50, 1)} / ${fmt(load.p99, 1)} | ${cell.measured.catchUpMs} | ${fmt(cell.measured.cpuMsPerMessage, 3)} | ${fmt(cell.measured.machineBusy)} | ${s.rssMb} / ${cell.measured.rssPeakMb} / ${cell.measured.rssAfterMb} | ` +
      `${s.runningMs} / ${s.ingressMs} / ${s.quietMs} | ${s.cpuMs} |`,
  );
}
for (const cell of [small, ...grown]) {
  const { addresses, suspended, endpointsDown, inFlight } = cell.measured.dispatcher;
  console.log(
    `${cell.name}, dispatch after the load: ${addresses} addresses held, ${suspended} suspended, ${inFlight} in flight, ${endpointsDown} endpoints down`,
  );
}
console.log("");
console.log(
  "| ratio to small | accepted/s | applied/s | ingress p99 | runtime CPU/msg | RSS peak | first 202 | start-up CPU |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const cell of grown) {
  console.log(
    `| ${cell.name} | ${ratio(cell.measured.load.perSecond, small.measured.load.perSecond)} | ` +
      `${ratio(cell.measured.appliedPerSecond, small.measured.appliedPerSecond)} | ${ratio(cell.measured.load.p99, small.measured.load.p99)} | ` +
      `${ratio(cell.measured.cpuMsPerMessage, small.measured.cpuMsPerMessage)} | ` +
      `${ratio(cell.measured.rssPeakMb, small.measured.rssPeakMb)} | ${ratio(cell.startUp.ingressMs, small.startUp.ingressMs)} | ` +
      `${ratio(cell.startUp.cpuMs, small.startUp.cpuMs)} |`,
  );
}
if (drain) {
  const live = drain.live;
  console.log("");
  console.log(
    `drain (load avg ${drain.loadAverage}): endpoint back, first parked message applied after ${fmt(drain.firstAppliedMs)} ms; ` +
      `${drain.drained} of ${size} drained in the ${drainMs} ms window = ${fmt(drain.perSecond)}/s; ` +
      `RSS peak ${drain.rssPeakMb} MB${drain.rssEvery10s.length > 0 ? `, every 10 s: ${drain.rssEvery10s.join(", ")} MB` : ""}`,
  );
  console.log(
    `meanwhile ${LIVE}: accepted/s ${fmt(live.load.perSecond)} (${ratio(live.load.perSecond, small.measured.load.perSecond)} of small), ` +
      `applied/s ${fmt(live.appliedPerSecond)} (${ratio(live.appliedPerSecond, small.measured.appliedPerSecond)}), ` +
      `ingress p99 ${fmt(live.load.p99, 1)} ms (${ratio(live.load.p99, small.measured.load.p99)}), ` +
      `catch-up ${live.catchUpMs} ms${live.catchUpMs >= CATCH_UP_LIMIT_MS ? " (gave up waiting)" : ""}`,
  );
}
