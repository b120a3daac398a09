import type { Command } from "commander";
import { offsetPort, parsePortOffset } from "../config/port-offset.js";
import type { Logger } from "../dispatch/logger.js";
import { Runtime, type RuntimeOptions } from "../runtime.js";
import { createLogger } from "./create-logger.js";
import { printRuntime } from "./print-runtime.js";

export interface RunFlags {
  dataDir: string;
  durability: "full" | "normal";
  maxInFlight?: string;
  adminPort: string;
  adminHost: string;
  admin: boolean;
  otlpEndpoint?: string;
  portOffset?: string;
}

/** `switchboard run FILE|DIR...`: start the runtime from module YAML until SIGTERM/SIGINT. */
export function registerRunCommand(program: Command): void {
  const command = program
    .command("run")
    .description("start the runtime from module YAML files or directories")
    .argument("<paths...>", "module YAML files or directories");
  withRuntimeFlags(command).action(async (paths: string[], flags: RunFlags) => {
    const logger = createLogger();
    const runtime = await Runtime.start(runtimeOptions(paths, flags, logger));
    printRuntime(runtime);
    console.log("switchboard is running; Ctrl-C or SIGTERM stops it");
    await new Promise<void>((resolve) => {
      const shutdown = (signal: string) => {
        console.log(`${signal}: draining`);
        runtime.stop().then(resolve, (error: unknown) => {
          logger.error({ err: error }, "shutdown failed");
          process.exitCode = 1;
          resolve();
        });
      };
      process.once("SIGTERM", () => shutdown("SIGTERM"));
      process.once("SIGINT", () => shutdown("SIGINT"));
    });
  });
}

/** The options `run` and `dev` share. */
export function withRuntimeFlags(command: Command): Command {
  return command
    .option("--data-dir <dir>", "where the durable store lives", ".switchboard")
    .option("--durability <mode>", "full: fsync every commit; normal: survive a process crash only", "full")
    .option("--max-in-flight <n>", "global cap on batches in flight", undefined)
    .option("--admin-port <port>", "admin server port (health, metrics, admin API, live page)", "8099")
    .option("--admin-host <host>", "interface the admin server binds", "127.0.0.1")
    .option("--no-admin", "run without the admin server")
    .option(
      "--port-offset <n>",
      "add n to every listen port of the module YAML and to the admin port (several instances on one machine)",
    )
    .option(
      "--otlp-endpoint <url>",
      "export OpenTelemetry spans over OTLP/HTTP to this URL (default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; off when unset)",
      process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    );
}

export function runtimeOptions(paths: string[], flags: RunFlags, logger: Logger): RuntimeOptions {
  const portOffset = parsePortOffset(flags.portOffset);
  return {
    modules: paths,
    ...(portOffset > 0 ? { portOffset } : {}),
    dataDir: flags.dataDir,
    durability: flags.durability === "normal" ? "normal" : "full",
    ...(flags.maxInFlight ? { maxInFlight: Number(flags.maxInFlight) } : {}),
    ...(flags.admin
      ? {
          adminPort: offsetPort(parsePort(flags.adminPort), portOffset, "--admin-port"),
          adminHost: flags.adminHost,
        }
      : {}),
    ...(flags.otlpEndpoint ? { tracing: { otlpEndpoint: flags.otlpEndpoint } } : {}),
    logger,
  };
}

function parsePort(raw: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--admin-port must be a port number 0..65535, not ${raw}`);
  }
  return port;
}
