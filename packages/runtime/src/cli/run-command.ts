import type { Command } from "commander";
import { parseAdvertiseHost } from "../cluster/advertise-host.js";
import { parseDuration } from "../config/duration.js";
import { offsetPort, parsePortOffset } from "../config/port-offset.js";
import type { Logger } from "../dispatch/logger.js";
import { DEFAULT_DRAIN_TIMEOUT_MS, Runtime, type RuntimeOptions } from "../runtime.js";
import { createLogger } from "./create-logger.js";
import { printRuntime } from "./print-runtime.js";
import { untilStopSignal } from "./until-signal.js";

export interface RunFlags {
  dataDir: string;
  durability: "full" | "normal";
  maxInFlight?: string;
  maxActiveAddresses?: string;
  adminPort: string;
  adminHost: string;
  admin: boolean;
  adminToken?: string;
  otlpEndpoint?: string;
  drainTimeout: string;
  portOffset?: string;
  store?: string;
  instanceId?: string;
  lease?: string;
  advertiseHost?: string;
}

/** `switchboard run FILE|DIR...`: start the runtime from module YAML until SIGTERM/SIGINT. */
export function registerRunCommand(program: Command): void {
  const command = program
    .command("run")
    .description("start the runtime from module YAML files or directories")
    .argument("<paths...>", "module YAML files or directories");
  withRuntimeFlags(command).action(async (paths: string[], flags: RunFlags) => {
    const logger = createLogger();
    const signalled = untilStopSignal();
    const options = runtimeOptions(paths, flags, logger);
    const runtime = await Runtime.start(options);
    printRuntime(runtime);
    console.log("switchboard is running; Ctrl-C or SIGTERM stops it");
    console.log(`${await signalled}: draining`);
    exitIfStillRunning(logger, options.drainTimeoutMs);
    await runtime.stop().catch((error: unknown) => {
      logger.error({ err: error }, "shutdown failed");
      process.exitCode = 1;
    });
  });
}

/** The options `run` and `dev` share. */
export function withRuntimeFlags(command: Command): Command {
  return (
    command
      .option("--data-dir <dir>", "where the embedded (SQLite) store lives", ".switchboard")
      .option(
        "--store <url>",
        "run as one instance of a cluster on PostgreSQL: postgres://user[:password]@host[:port]/database (default: $SWITCHBOARD_STORE; unset: the embedded store in --data-dir)",
        process.env.SWITCHBOARD_STORE || undefined,
      )
      .option(
        "--instance-id <id>",
        "this instance's name in the cluster, unique per running process (default: host, pid and a random suffix)",
      )
      .option(
        "--lease <duration>",
        "with --store: how long a silent instance keeps its partitions before others take them (default 10s)",
      )
      .option(
        "--advertise-host <host>",
        "with --store: the host name or IP address other instances use to reach this one's admin server when they forward admin actions (default: $SWITCHBOARD_ADVERTISE_HOST, else this machine's name); across machines also bind --admin-host beyond loopback",
      )
      .option("--durability <mode>", "full: fsync every commit; normal: survive a process crash only", "full")
      .option("--max-in-flight <n>", "global cap on batches in flight (default 1024)", undefined)
      .option(
        "--max-active-addresses <n>",
        "addresses dispatch holds in memory at once; the rest of the backlog waits in the store (default 8192)",
        undefined,
      )
      .option("--admin-port <port>", "admin server port (health, metrics, admin API, live page)", "8099")
      .option("--admin-host <host>", "interface the admin server binds", "127.0.0.1")
      .option("--no-admin", "run without the admin server")
      .option(
        "--port-offset <n>",
        "add n to every listen port of the module YAML and to the admin port (several instances on one machine)",
      )
      .option(
        "--drain-timeout <duration>",
        "on SIGTERM/SIGINT, how long batches in flight may finish before they are ended (they stay stored)",
        "5s",
      )
      // No default shown: the value is a secret (prefer the environment variable to argv).
      .option(
        "--admin-token <token>",
        "bearer token admin actions need; required with a non-loopback --admin-host (default: $SWITCHBOARD_ADMIN_TOKEN)",
      )
      .option(
        "--otlp-endpoint <url>",
        "export OpenTelemetry spans over OTLP/HTTP to this URL (default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; off when unset)",
        process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
      )
  );
}

export function runtimeOptions(paths: string[], flags: RunFlags, logger: Logger): RuntimeOptions {
  const portOffset = parsePortOffset(flags.portOffset);
  return {
    modules: paths,
    ...(portOffset > 0 ? { portOffset } : {}),
    dataDir: flags.dataDir,
    ...(flags.store ? { store: flags.store } : {}),
    ...clusterOptions(flags),
    durability: flags.durability === "normal" ? "normal" : "full",
    ...(flags.maxInFlight ? { maxInFlight: positiveInteger("--max-in-flight", flags.maxInFlight) } : {}),
    ...(flags.maxActiveAddresses
      ? { maxActiveAddresses: positiveInteger("--max-active-addresses", flags.maxActiveAddresses) }
      : {}),
    ...(flags.admin
      ? {
          adminPort: offsetPort(parsePort(flags.adminPort), portOffset, "--admin-port"),
          adminHost: flags.adminHost,
        }
      : {}),
    ...adminToken(flags.adminToken ?? process.env.SWITCHBOARD_ADMIN_TOKEN),
    ...(flags.otlpEndpoint ? { tracing: { otlpEndpoint: flags.otlpEndpoint } } : {}),
    drainTimeoutMs: parseDrainTimeout(flags.drainTimeout),
    logger,
  };
}

function clusterOptions(flags: RunFlags): Pick<RuntimeOptions, "cluster"> {
  // The variable only counts with a store: set machine-wide, it must not break a local `dev`.
  const advertised =
    flags.advertiseHost ?? (flags.store ? process.env.SWITCHBOARD_ADVERTISE_HOST || undefined : undefined);
  const advertiseHost = advertised !== undefined ? parseAdvertiseHost(advertised) : undefined;
  if (flags.instanceId === undefined && flags.lease === undefined && advertiseHost === undefined) return {};
  let leaseMs: number | undefined;
  if (flags.lease !== undefined) {
    const parsed = parseDuration(flags.lease);
    if (!parsed.ok) throw new Error(`--lease: ${parsed.reason}`);
    if (parsed.ms < 1000) throw new Error(`--lease must be at least 1s, not ${flags.lease}`);
    leaseMs = parsed.ms;
  }
  return {
    cluster: {
      ...(flags.instanceId !== undefined ? { instanceId: flags.instanceId } : {}),
      ...(leaseMs !== undefined ? { leaseMs } : {}),
      ...(advertiseHost !== undefined ? { advertiseHost } : {}),
    },
  };
}

function adminToken(token: string | undefined): { adminToken?: string } {
  // An empty variable is no token, not a token anyone can send.
  return token && token.trim() !== "" ? { adminToken: token.trim() } : {};
}

function parseDrainTimeout(raw: string): number {
  const parsed = parseDuration(raw);
  if (!parsed.ok) throw new Error(`--drain-timeout: ${parsed.reason}`);
  return parsed.ms;
}

/**
 * Once a stop has been asked for, the process ends: the stop is bounded, and if anything
 * still holds the event loop a little after it, that is a bug to name, not a reason to
 * linger. The timer is unref'd: it never delays an exit that happens on its own.
 */
export function exitIfStillRunning(logger: Logger, drainTimeoutMs = DEFAULT_DRAIN_TIMEOUT_MS): void {
  setTimeout(() => {
    logger.warn(
      { code: "SB_INTERNAL", resources: process.getActiveResourcesInfo() },
      "the process did not end after stopping; exiting",
    );
    process.exit(process.exitCode ?? 0);
  }, drainTimeoutMs + 30_000).unref();
}

function parsePort(raw: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--admin-port must be a port number 0..65535, not ${raw}`);
  }
  return port;
}

function positiveInteger(flag: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Error(`${flag} must be a whole number >= 1, not ${raw}`);
  return value;
}
