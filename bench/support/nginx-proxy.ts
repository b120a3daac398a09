import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";

/** A free TCP port on 127.0.0.1 (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Runs Debian's nginx in the foreground with its own config and prefix under /tmp, proxying
 * everything to `originPort` over keep-alive connections, without buffering (a pass-through
 * relay, like the host's). Returns its port and process.
 */
export async function startNginx(
  originPort: number,
  workers: number,
): Promise<{ port: number; child: ChildProcess }> {
  const prefix = mkdtempSync(join(tmpdir(), "switchboard-nginx-"));
  for (const dir of ["logs", "temp"]) mkdirSync(join(prefix, dir));
  const port = await freePort();
  const config = join(prefix, "nginx.conf");
  writeFileSync(
    config,
    `daemon off;
worker_processes ${workers};
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/temp/body;
  proxy_temp_path ${prefix}/temp/proxy;
  fastcgi_temp_path ${prefix}/temp/fastcgi;
  uwsgi_temp_path ${prefix}/temp/uwsgi;
  scgi_temp_path ${prefix}/temp/scgi;
  upstream origin { server 127.0.0.1:${originPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
`,
  );
  const child = spawn("nginx", ["-p", prefix, "-c", config], { stdio: ["ignore", "inherit", "inherit"] });
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "x" });
      await response.arrayBuffer();
      return { port, child };
    } catch {
      await delay(50);
    }
  }
  child.kill();
  throw new Error("nginx did not start");
}

/** Peak resident memory (VmHWM) of a process and its children, in bytes (Linux /proc). */
export function peakRss(pid: number): number {
  const pids = [pid];
  try {
    pids.push(
      ...execFileSync("pgrep", ["-P", String(pid)])
        .toString()
        .trim()
        .split("\n")
        .filter(Boolean)
        .map(Number),
    );
  } catch {
    // no children
  }
  let total = 0;
  for (const one of pids) {
    try {
      const status = execFileSync("cat", [`/proc/${one}/status`]).toString();
      const match = /VmHWM:\s+(\d+) kB/.exec(status);
      if (match) total += Number(match[1]) * 1024;
    } catch {
      // gone
    }
  }
  return total;
}
