/**
 * Requests/s of the SDK-served counter function against a bare node:http handler doing the
 * same protocol work by hand, measured in the same run with alternating order.
 *
 *   npm run bench -- sdk-handler [durationMs=5000] [concurrency=32]
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { INT } from "@switchboard/sdk";
import { ToFunctionSchema } from "@switchboard/sdk/protocol";
import { type LoadResult, runJsonProcess, startServerProcess, stopProcess } from "./support/processes.js";

const durationMs = Number(process.argv[2] ?? 5000);
const concurrency = Number(process.argv[3] ?? 32);

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

async function measure(script: string): Promise<LoadResult> {
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
    return await runJsonProcess<LoadResult>("load-generator.ts", [
      `http://127.0.0.1:${server.port}/counter`,
      "1",
      String(concurrency),
      String(durationMs),
      "application/octet-stream",
    ]);
  } finally {
    await stopProcess(server.child);
  }
}

console.log(`sdk-handler: ${durationMs} ms per run, c=${concurrency}, node ${process.version}`);
console.log("| round | bare node:http req/s | SDK req/s | SDK / bare | SDK p99 ms | errors |");
console.log("| --- | --- | --- | --- | --- | --- |");
const ratios: number[] = [];
for (let round = 1; round <= 2; round++) {
  const order = round % 2 === 1 ? ["bare", "sdk"] : ["sdk", "bare"];
  const results: Record<string, LoadResult> = {};
  for (const which of order)
    results[which] = await measure(which === "bare" ? "bare-counter-server.ts" : "sdk-counter-server.ts");
  const bare = results.bare as LoadResult;
  const sdk = results.sdk as LoadResult;
  ratios.push(sdk.perSecond / bare.perSecond);
  console.log(
    `| ${round} | ${bare.perSecond.toFixed(0)} | ${sdk.perSecond.toFixed(0)} | ${(sdk.perSecond / bare.perSecond).toFixed(2)} | ${sdk.p99.toFixed(1)} | ${bare.errors + sdk.errors} |`,
  );
}
console.log(
  `mean SDK / bare: ${(ratios.reduce((a, b) => a + b, 0) / ratios.length).toFixed(2)} (goal >= 0.6)`,
);
