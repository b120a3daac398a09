/**
 * Requests/s of the SDK-served counter function against bare node:http handlers doing the
 * same protocol work by hand, measured in the same run with rotating order:
 *
 * - bare: the generated protocol code (fromBinary / create / toBinary), the minimal handler
 *   one would write with @switchboard/sdk/protocol and no SDK;
 * - bare-wire: the same handler with the SDK's own hand-written wire code, so the SDK's ratio
 *   to it is the SDK's overhead alone, the protocol costing the same on both sides.
 *
 * Besides req/s it reports each server's CPU time per request (from /proc). On a shared
 * machine both move with whatever else runs; the median of the per-round ratios moves least.
 *
 *   npm run bench -- sdk-handler [durationMs=5000] [concurrency=32] [rounds=2]
 */
import { writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { INT } from "@switchboard/sdk";
import { ToFunctionSchema } from "@switchboard/sdk/protocol";
import { processCpuMs } from "./support/cpu-time.js";
import { type LoadResult, runJsonProcess, startServerProcess, stopProcess } from "./support/processes.js";

const durationMs = Number(process.argv[2] ?? 5000);
const concurrency = Number(process.argv[3] ?? 32);
const rounds = Number(process.argv[4] ?? 2);

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

interface Measured extends LoadResult {
  /** Server CPU (user + system) per answered request, in microseconds. */
  cpuUsPerRequest: number;
}

async function measure(script: string): Promise<Measured> {
  const server = await startServerProcess(script);
  try {
    // Warm up the JIT and the connections, then measure.
    await runJsonProcess<LoadResult>("load-generator.ts", [
      `http://127.0.0.1:${server.port}/counter`,
      "1",
      String(concurrency),
      "1000",
      "application/octet-stream",
    ]);
    const cpuBefore = processCpuMs(server.child.pid);
    const result = await runJsonProcess<LoadResult>("load-generator.ts", [
      `http://127.0.0.1:${server.port}/counter`,
      "1",
      String(concurrency),
      String(durationMs),
      "application/octet-stream",
    ]);
    const cpuMs = processCpuMs(server.child.pid) - cpuBefore;
    return { ...result, cpuUsPerRequest: (cpuMs * 1000) / Math.max(1, result.ok) };
  } finally {
    await stopProcess(server.child);
  }
}

const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");
const SERVERS = {
  bare: "bare-counter-server.ts",
  wire: "bare-wire-counter-server.ts",
  sdk: "sdk-counter-server.ts",
};
type Server = keyof typeof SERVERS;
const NAMES = Object.keys(SERVERS) as Server[];

console.log(
  `sdk-handler: ${durationMs} ms per run, c=${concurrency}, node ${process.version}, load average ${load()}`,
);
console.log(
  "| round | bare req/s | bare-wire req/s | SDK req/s | SDK / bare | SDK / bare-wire | CPU us/req bare, bare-wire, SDK | SDK p99 ms | errors |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
const ratios: Record<"bare" | "wire", number[]> = { bare: [], wire: [] };
const cpuRatios: Record<"bare" | "wire", number[]> = { bare: [], wire: [] };
for (let round = 1; round <= rounds; round++) {
  // Each server takes each place in the order in turn, so none always runs first or last.
  const order = NAMES.map((_, i) => NAMES[(i + round - 1) % NAMES.length] as Server);
  const results = {} as Record<Server, Measured>;
  for (const which of order) results[which] = await measure(SERVERS[which]);
  const { bare, wire, sdk } = results;
  ratios.bare.push(sdk.perSecond / bare.perSecond);
  ratios.wire.push(sdk.perSecond / wire.perSecond);
  cpuRatios.bare.push(bare.cpuUsPerRequest / sdk.cpuUsPerRequest);
  cpuRatios.wire.push(wire.cpuUsPerRequest / sdk.cpuUsPerRequest);
  const cpu = [bare, wire, sdk].map((result) => result.cpuUsPerRequest.toFixed(1)).join(", ");
  console.log(
    `| ${round} | ${bare.perSecond.toFixed(0)} | ${wire.perSecond.toFixed(0)} | ${sdk.perSecond.toFixed(0)} | ${(sdk.perSecond / bare.perSecond).toFixed(2)} | ${(sdk.perSecond / wire.perSecond).toFixed(2)} | ${cpu} | ${sdk.p99.toFixed(1)} | ${bare.errors + wire.errors + sdk.errors} |`,
  );
}
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
for (const against of ["bare", "wire"] as const) {
  console.log(
    `SDK / ${against === "bare" ? "bare" : "bare-wire"}: req/s median ${median(ratios[against]).toFixed(2)} (mean ${mean(ratios[against]).toFixed(2)}), CPU per request median ${median(cpuRatios[against]).toFixed(2)} (mean ${mean(cpuRatios[against]).toFixed(2)})`,
  );
}
console.log(`goal: SDK >= 0.9 of bare (issue 18); load average now ${load()}`);
