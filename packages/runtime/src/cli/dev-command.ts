import type { Command } from "commander";
import { DevSupervisor } from "../dev/dev-supervisor.js";
import { createLogger } from "./create-logger.js";
import { printRuntime } from "./print-runtime.js";
import { exitIfStillRunning, type RunFlags, runtimeOptions, withRuntimeFlags } from "./run-command.js";
import { untilStopSignal } from "./until-signal.js";

/**
 * `switchboard dev FILE|DIR...`: `run`, plus reloading in place when the module YAML or a
 * hosted module's code changes. Stored state and queued messages are kept; a change that
 * does not validate or load is reported and the previous version keeps serving.
 */
export function registerDevCommand(program: Command): void {
  const command = program
    .command("dev")
    .description("run the runtime and reload it in place when module YAML or function code changes")
    .argument("<paths...>", "module YAML files or directories");
  withRuntimeFlags(command).action(async (paths: string[], flags: RunFlags) => {
    const logger = createLogger();
    const signalled = untilStopSignal();
    const options = runtimeOptions(paths, flags, logger);
    const dev = await DevSupervisor.start({
      ...options,
      onStarted: (runtime, watching) => {
        printRuntime(runtime);
        for (const dir of watching) console.log(`watching  ${dir}`);
      },
    });
    console.log("switchboard dev is running; edits reload in place; Ctrl-C or SIGTERM stops it");
    console.log(`${await signalled}: draining`);
    exitIfStillRunning(logger, options.drainTimeoutMs);
    await dev.stop().catch((error: unknown) => {
      logger.error({ err: error }, "shutdown failed");
      process.exitCode = 1;
    });
  });
}
