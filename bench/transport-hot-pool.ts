/**
 * Hot pool: p99 latency of a burst of concurrent calls after an idle period, against the
 * steady-state p99 with the same number of calls in flight, through one transport whose
 * pool stays warm. A cold pool (a new transport per burst) is measured in the same run
 * for contrast. Server and client are separate processes. Goal: burst p99 / steady p99 <= 1.25.
 *
 *   npm run bench -- transport-hot-pool [burst=256] [bursts=10] [idleMs=2000] [steadyMs=3000] [rounds=2]
 */
import { runJsonProcess, startServerProcess, stopProcess } from "./support/processes.js";

const burst = Number(process.argv[2] ?? 256);
const bursts = Number(process.argv[3] ?? 10);
const idleMs = Number(process.argv[4] ?? 2000);
const steadyMs = Number(process.argv[5] ?? 3000);
const rounds = Number(process.argv[6] ?? 2);

interface Latency {
  calls: number;
  p50: number;
  p99: number;
}
interface Warm {
  steady: Latency;
  burst: Latency;
  poolConnections: number;
  burstConnects: number;
}
interface Cold {
  burst: Latency;
  burstConnects: number;
}

const server = await startServerProcess("plain-counter-server.ts");
const url = `http://127.0.0.1:${server.port}/fn`;
const args = (mode: string) => [url, String(burst), String(steadyMs), String(bursts), String(idleMs), mode];

try {
  console.log(
    `transport-hot-pool: bursts of ${burst} after ${idleMs} ms idle, ${bursts} bursts per run, node ${process.version}`,
  );
  console.log(
    "| round | steady p50 / p99 ms | warm burst p50 / p99 ms | warm burst / steady p99 | connects in warm bursts | cold burst p50 / p99 ms | connects in cold bursts |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  const ratios: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const warm = await runJsonProcess<Warm>("transport-burst.ts", args("warm"));
    const cold = await runJsonProcess<Cold>("transport-burst.ts", args("cold"));
    const ratio = warm.burst.p99 / warm.steady.p99;
    ratios.push(ratio);
    console.log(
      `| ${round} | ${warm.steady.p50.toFixed(1)} / ${warm.steady.p99.toFixed(1)} | ${warm.burst.p50.toFixed(1)} / ${warm.burst.p99.toFixed(1)} | ${ratio.toFixed(2)} | ${warm.burstConnects} (pool ${warm.poolConnections}) | ${cold.burst.p50.toFixed(1)} / ${cold.burst.p99.toFixed(1)} | ${cold.burstConnects} |`,
    );
  }
  const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
  console.log(`mean warm burst p99 / steady p99: ${mean.toFixed(2)} (goal <= 1.25)`);
} finally {
  await stopProcess(server.child);
}
