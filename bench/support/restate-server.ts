/**
 * A restate-server for one benchmark cell, run as a user tuning it for a 2-core machine would:
 * one partition (the default 24 cost 1.6-1.8x throughput here, shared/reference/restate.md),
 * a fresh base directory, telemetry off, TCP on loopback only with ports the OS picks, and the
 * RocksDB WAL fsync'd on every commit (Restate's default, stated here because Switchboard's
 * `full` durability is what it is compared with).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reapOnInterrupt } from "./child-reaper.js";
import { stopProcess } from "./processes.js";

export interface RestateServer {
  child: ChildProcess;
  ingressUrl: string;
  adminUrl: string;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 30_000;

export async function startRestateServer(binary: string): Promise<RestateServer> {
  const baseDir = mkdtempSync(join(tmpdir(), "restate-bench-"));
  const child = reapOnInterrupt(
    spawn(binary, ["--no-logo"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        RESTATE_BASE_DIR: baseDir,
        RESTATE_DEFAULT_NUM_PARTITIONS: "1",
        RESTATE_DISABLE_TELEMETRY: "true",
        RESTATE_LISTEN_MODE: "tcp",
        RESTATE_BIND_IP: "127.0.0.1",
        RESTATE_ADVERTISED_HOST: "127.0.0.1",
        RESTATE_USE_RANDOM_PORTS: "true",
        RESTATE_LOG_SERVER__ROCKSDB_DISABLE_WAL_FSYNC: "false",
        RESTATE_BIFROST__LOCAL__ROCKSDB_DISABLE_WAL_FSYNC: "false",
        RESTATE_LOG_FORMAT: "compact",
        RESTATE_LOG_DISABLE_ANSI_CODES: "true",
      },
    }),
  );
  const stop = async () => {
    await stopProcess(child);
    rmSync(baseDir, { recursive: true, force: true });
  };
  try {
    const ports = await listeningPorts(child);
    const server = {
      child,
      ingressUrl: `http://127.0.0.1:${ports.ingress}`,
      adminUrl: `http://127.0.0.1:${ports.admin}`,
      stop,
    };
    await waitUntilHealthy(server.adminUrl);
    return server;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** With random ports, the log lines announcing each listener are where the ports are found. */
function listeningPorts(child: ChildProcess): Promise<{ ingress: number; admin: number }> {
  return new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(
      () => fail(new Error("restate-server did not report its ports in time")),
      STARTUP_TIMEOUT_MS,
    );
    const onExit = (code: number | null) => fail(new Error(`restate-server exited with ${code}:\n${log}`));
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const ingress = /http-ingress-server server\.address="[^"]*" server\.port=(\d+)/.exec(log)?.[1];
      const admin = /admin-api-server server\.address="[^"]*" server\.port=(\d+)/.exec(log)?.[1];
      if (ingress && admin) {
        cleanup();
        resolve({ ingress: Number(ingress), admin: Number(admin) });
        // Keep draining its output so a chatty server never blocks on a full pipe.
        child.stdout?.resume();
        child.stderr?.resume();
      }
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off("exit", onExit);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
    };
    const fail = (error: Error) => {
      cleanup();
      reject(error);
    };
    child.once("exit", onExit);
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
  });
}

async function waitUntilHealthy(adminUrl: string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const healthy = await fetch(`${adminUrl}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`restate admin at ${adminUrl} did not become healthy`);
}

/** Registers an SDK endpoint (HTTP/2) as a deployment; the call returns once discovery succeeded. */
export async function registerDeployment(adminUrl: string, endpointUrl: string): Promise<void> {
  const response = await fetch(`${adminUrl}/deployments`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ uri: endpointUrl }),
  });
  if (!response.ok)
    throw new Error(`registering ${endpointUrl}: ${response.status} ${await response.text()}`);
}

/** Sum of every Counter's state `n`, through the admin SQL API (one query, whatever the key count). */
export async function counterSum(adminUrl: string): Promise<number> {
  const response = await fetch(`${adminUrl}/query`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({
      query:
        "SELECT sum(CAST(value_utf8 AS BIGINT)) AS total FROM state WHERE service_name = 'Counter' AND key = 'n'",
    }),
  });
  if (!response.ok) throw new Error(`state query: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { rows: { total: number | null }[] };
  return Number(body.rows[0]?.total ?? 0);
}
