/**
 * Base ports for instances started with `--port-offset`: every base + offset is free at the
 * time of the check. Ports 0 stay 0 under an offset, so instances on one machine need real ones.
 */
import { createServer } from "node:net";

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** `count` distinct bases in 20000-40000 such that base + each offset is free. */
export async function freeBases(count: number, offsets: readonly number[]): Promise<number[]> {
  const bases: number[] = [];
  const taken = new Set<number>();
  for (let port = 20_000 + Math.floor(Math.random() * 20_000); bases.length < count; port += 7) {
    const ports = offsets.map((offset) => port + offset);
    if (ports.some((p) => taken.has(p) || p > 65_535)) continue;
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) {
      bases.push(port);
      for (const p of ports) taken.add(p);
    }
  }
  return bases;
}
