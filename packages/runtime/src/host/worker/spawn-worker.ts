import { Worker } from "node:worker_threads";
import { HostErrors } from "../../errors/host-errors.js";
import { SwitchboardError } from "../../errors/switchboard-error.js";

/**
 * Worker entry, evaluated as a script: loads tsx's ESM hooks first when the worker program
 * or the user's module is TypeScript, so `.ts` modules load both under `--import tsx`
 * (tests, npm start) and from a compiled build.
 */
const BOOTSTRAP = `
const { workerData, parentPort } = require("node:worker_threads");
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.main);
})().catch((error) => {
  parentPort.postMessage({ t: "load-failed", error: { name: (error && error.name) || "Error", message: String((error && error.message) || error), stack: error && error.stack } });
  process.exit(1);
});
`;

const TS_FILE = /\.(ts|mts|cts|tsx)$/;
const selfIsTypeScript = import.meta.url.endsWith(".ts");
const workerMain = new URL(`./worker-main.${selfIsTypeScript ? "ts" : "js"}`, import.meta.url).href;

export interface SpawnOptions {
  readonly moduleUrl: string;
  readonly env: Readonly<Record<string, string>>;
  readonly memoryMb: number;
  readonly name: string;
  /** The worker's own range of ids for web requests it serves itself. */
  readonly lane: number;
}

export function spawnWorker(options: SpawnOptions): Worker {
  const needsTsx = selfIsTypeScript || TS_FILE.test(new URL(options.moduleUrl).pathname);
  let tsx: string | undefined;
  if (needsTsx) {
    try {
      tsx = import.meta.resolve("tsx/esm/api");
    } catch {
      throw new SwitchboardError(
        HostErrors.MODULE_LOAD_FAILED,
        `${options.moduleUrl} is TypeScript and tsx (its loader) cannot be found; install tsx or compile the module to JavaScript`,
      );
    }
  }
  return new Worker(BOOTSTRAP, {
    eval: true,
    name: options.name,
    workerData: { main: workerMain, tsx, moduleUrl: options.moduleUrl, lane: options.lane },
    // The function's process.env is exactly its configured variables: nothing of the host's leaks in.
    env: { ...options.env },
    resourceLimits: { maxOldGenerationSizeMb: options.memoryMb },
  });
}
