/**
 * Requests/s of the SDK-served counter function against a bare node:http handler doing the
 * same protocol work by hand, measured in the same run with alternating order. Besides req/s
 * it reports each server's CPU time per request (from /proc): on a shared machine the req/s
 * ratio moves with whatever else runs, the CPU cost of a request much less.
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
console.log(
  `sdk-handler: ${durationMs} ms per run, c=${concurrency}, node ${process.version}, load average ${load()}`,
);
console.log(
  "| round | bare node:http req/s | SDK req/s | SDK / bare | bare CPU us/req | SDK CPU us/req | bare / SDK CPU | SDK p99 ms | errors |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
const ratios: number[] = [];
const cpuRatios: number[] = [];
for (let round = 1; round <= rounds; round++) {
  const order = round % 2 === 1 ? ["bare", "sdk"] : ["sdk", "bare"];
  const results: Record<string, Measured> = {};
  for (const which of order)
    results[which] = await measure(which === "bare" ? "bare-counter-server.ts" : "sdk-counter-server.ts");
  const bare = results.bare as Measured;
  const sdk = results.sdk as Measured;
  ratios.push(sdk.perSecond / bare.perSecond);
  cpuRatios.push(bare.cpuUsPerRequest / sdk.cpuUsPerRequest);
  console.log(
    `| ${round} | ${bare.perSecond.toFixed(0)} | ${sdk.perSecond.toFixed(0)} | ${(sdk.perSecond / bare.perSecond).toFixed(2)} | ${bare.cpuUsPerRequest.toFixed(1)} | ${sdk.cpuUsPerRequest.toFixed(1)} | ${(bare.cpuUsPerRequest / sdk.cpuUsPerRequest).toFixed(2)} | ${sdk.p99.toFixed(1)} | ${bare.errors + sdk.errors} |`,
  );
}
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
console.log(
  `mean SDK / bare: ${mean(ratios).toFixed(2)} req/s, ${mean(cpuRatios).toFixed(2)} CPU per request (goal >= 0.9); load average now ${load()}`,
);
