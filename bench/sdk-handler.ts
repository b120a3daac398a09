/**
 * Requests/s of the SDK-served counter function against bare node:http handlers doing the
 * same protocol work by hand:
 *
 * - bare: the generated protocol code (fromBinary / create / toBinary), the minimal handler
 *   one would write with @switchboard/sdk/protocol and no SDK;
 * - bare-wire: the same handler with the SDK's own hand-written wire code, so the SDK's ratio
 *   to it is the SDK's overhead alone, the protocol costing the same on both sides.
 *
 * The three servers run side by side for the whole benchmark, and one load client gives each
 * in turn a short slice of closed-loop load (rotating the order every round), so that all
 * three see the same mix of whatever else the shared machine is doing; totals and the median
 * of per-round ratios are reported. Besides req/s, each server's CPU time per request (from
 * /proc) is reported. With BENCH_PROFILE=<dir>, each server is also profiled over the measured
 * rounds (not start-up or warm-up) and a table of where its time went is printed.
 *
 *   npm run bench -- sdk-handler [sliceMs=500] [concurrency=32] [rounds=12]
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { create, toBinary } from "@bufbuild/protobuf";
import { INT } from "@switchboard/sdk";
import { ToFunctionSchema } from "@switchboard/sdk/protocol";
import { reapOnInterrupt } from "./support/child-reaper.js";
import { processCpuMs } from "./support/cpu-time.js";
import { startServerProcess, stopProcess } from "./support/processes.js";
import { sharesTable } from "./support/profile-summary.js";

const sliceMs = Number(process.argv[2] ?? 500);
const concurrency = Number(process.argv[3] ?? 32);
const rounds = Number(process.argv[4] ?? 12);
const profileDir = process.env.BENCH_PROFILE ? resolve(process.env.BENCH_PROFILE) : undefined;
const profileHook = new URL("./support/cpu-profile-hook.mjs", import.meta.url).pathname;
const profileOf = (name: string) => join(profileDir ?? "", `${name}.cpuprofile`);

// One invocation of bench/counter with its state attached, as the runtime sends it.
const body = toBinary(
  ToFunctionSchema,
  create(ToFunctionSchema, {
    request: {
      case: "invocation",
      value: {
        target: { namespace: "bench", type: "counter", id: "k1" },
        state: [
          {
            stateName: "seen",
            stateValue: { typename: INT.typename, hasValue: true, value: INT.serialize(41) },
          },
        ],
        invocations: [
          {
            argument: {
              typename: "io.statefun.types/string",
              hasValue: true,
              value: new Uint8Array([10, 2, 104, 105]),
            },
          },
        ],
      },
    },
  }),
);
const bodyFile = join(tmpdir(), `switchboard-sdk-bench-${process.pid}.bin`);
writeFileSync(bodyFile, body);
process.env.BENCH_BODY_FILE = bodyFile;

const SERVERS = {
  bare: "bare-counter-server.ts",
  wire: "bare-wire-counter-server.ts",
  sdk: "sdk-counter-server.ts",
} as const;
type Server = keyof typeof SERVERS;
const NAMES = Object.keys(SERVERS) as Server[];

interface Slice {
  ok: number;
  errors: number;
  elapsedMs: number;
  latencies: number[];
}

const servers = {} as Record<Server, Awaited<ReturnType<typeof startServerProcess>>>;
const client = reapOnInterrupt(
  spawn(
    process.execPath,
    [
      "--conditions=development",
      "--import",
      "tsx",
      new URL("./support/slice-load-client.ts", import.meta.url).pathname,
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  ),
);
const replies = createInterface({ input: client.stdout })[Symbol.asyncIterator]();
async function slice(name: Server, durationMs: number): Promise<Slice> {
  client.stdin.write(`${JSON.stringify({ port: servers[name].port, durationMs, concurrency })}\n`);
  const reply = await replies.next();
  if (reply.done) throw new Error("the load client exited");
  return JSON.parse(reply.value) as Slice;
}

const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");
console.log(
  `sdk-handler: ${rounds} rounds of ${sliceMs} ms slices per server, c=${concurrency}, node ${process.version}, load average ${load()}`,
);
const totals = Object.fromEntries(
  NAMES.map((name) => [name, { ok: 0, errors: 0, elapsedMs: 0, cpuMs: 0, latencies: [] as number[] }]),
) as Record<Server, { ok: number; errors: number; elapsedMs: number; cpuMs: number; latencies: number[] }>;
const perRound = {
  bare: [] as number[],
  wire: [] as number[],
  cpuBare: [] as number[],
  cpuWire: [] as number[],
};
// Servers and client are stopped however the run ends, so no process is left holding a core.
try {
  for (const name of NAMES) {
    const env = profileDir
      ? {
          ...process.env,
          NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import ${profileHook}`,
          BENCH_PROFILE_OUT: profileOf(name),
        }
      : process.env;
    servers[name] = await startServerProcess(SERVERS[name], [], env);
  }
  // Warm up the JIT and the connections of every server.
  for (const name of NAMES) await slice(name, 1000);
  if (profileDir) {
    for (const name of NAMES) servers[name].child.kill("SIGUSR2");
    await new Promise((started) => setTimeout(started, 300));
  }

  console.log(
    "| round | bare req/s | bare-wire req/s | SDK req/s | SDK / bare | SDK / bare-wire | CPU us/req bare, bare-wire, SDK |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (let round = 1; round <= rounds; round++) {
    const rate = {} as Record<Server, number>;
    const cpu = {} as Record<Server, number>;
    for (const name of NAMES.map((_, i) => NAMES[(i + round - 1) % NAMES.length] as Server)) {
      const before = processCpuMs(servers[name].child.pid);
      const result = await slice(name, sliceMs);
      const cpuMs = processCpuMs(servers[name].child.pid) - before;
      const total = totals[name];
      total.ok += result.ok;
      total.errors += result.errors;
      total.elapsedMs += result.elapsedMs;
      total.cpuMs += cpuMs;
      for (const latency of result.latencies) total.latencies.push(latency);
      rate[name] = (result.ok / result.elapsedMs) * 1000;
      cpu[name] = (cpuMs * 1000) / Math.max(1, result.ok);
    }
    perRound.bare.push(rate.sdk / rate.bare);
    perRound.wire.push(rate.sdk / rate.wire);
    perRound.cpuBare.push(cpu.bare / cpu.sdk);
    perRound.cpuWire.push(cpu.wire / cpu.sdk);
    console.log(
      `| ${round} | ${rate.bare.toFixed(0)} | ${rate.wire.toFixed(0)} | ${rate.sdk.toFixed(0)} | ${(rate.sdk / rate.bare).toFixed(2)} | ${(rate.sdk / rate.wire).toFixed(2)} | ${NAMES.map((name) => cpu[name].toFixed(1)).join(", ")} |`,
    );
  }
} finally {
  client.stdin.end();
  client.kill();
  for (const name of NAMES) if (servers[name]) await stopProcess(servers[name].child);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const rateOf = (name: Server) => (totals[name].ok / totals[name].elapsedMs) * 1000;
const cpuOf = (name: Server) => (totals[name].cpuMs * 1000) / Math.max(1, totals[name].ok);
const p99Of = (name: Server) => {
  const sorted = totals[name].latencies.sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length * 0.99)] ?? Number.NaN;
};
console.log(
  `totals: ${NAMES.map((name) => `${name} ${rateOf(name).toFixed(0)} req/s, ${cpuOf(name).toFixed(1)} CPU us/req, p99 ${p99Of(name).toFixed(1)} ms, ${totals[name].errors} errors`).join("; ")}`,
);
for (const [label, against, rates, cpus] of [
  ["bare", "bare", perRound.bare, perRound.cpuBare],
  ["bare-wire", "wire", perRound.wire, perRound.cpuWire],
] as const) {
  console.log(
    `SDK / ${label}: req/s ${(rateOf("sdk") / rateOf(against)).toFixed(2)} (median of rounds ${median(rates).toFixed(2)}), CPU per request ${(cpuOf(against) / cpuOf("sdk")).toFixed(2)} (median of rounds ${median(cpus).toFixed(2)})`,
  );
}
console.log(`goal: SDK >= 0.9 of bare (issue 18); load average now ${load()}`);
if (profileDir) {
  console.log(`\nprofiles of the measured rounds in ${profileDir}:\n`);
  console.log(sharesTable(NAMES.map((name) => [name, profileOf(name)])));
}
