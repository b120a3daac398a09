import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, Socket } from "node:net";

const REDIS_SERVER = "/usr/bin/redis-server";

/** A port the OS says is free right now (a redis-server cannot listen on port 0 and report it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

/** A throwaway redis-server child (no persistence) that a test may kill and restart. */
export class RedisProcess {
  private child: ChildProcess | undefined;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      REDIS_SERVER,
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    this.child = child;
    child.on("error", () => {});
    for (let attempt = 0; attempt < 100; attempt++) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      if (await answers(this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not answer on port ${this.port}`);
  }

  /** SIGSTOP / SIGCONT: a server that keeps its connections but stops answering. */
  pause(): void {
    this.child?.kill("SIGSTOP");
  }

  resume(): void {
    this.child?.kill("SIGCONT");
  }

  /** A clean SHUTDOWN, as an operator stopping Redis would; resolves once the process is gone. */
  async shutdown(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    const socket = new Socket();
    socket.on("error", () => {});
    socket.connect(this.port, "127.0.0.1", () => socket.write("SHUTDOWN NOSAVE\r\n"));
    await exited;
    socket.destroy();
  }

  /** SIGKILL, as a crash would; resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }
}

async function answers(port: number): Promise<boolean> {
  const socket = new Socket();
  try {
    socket.connect(port, "127.0.0.1");
    await once(socket, "connect");
    socket.write("PING\r\n");
    const [data] = await once(socket, "data");
    return String(data).startsWith("+PONG");
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}
