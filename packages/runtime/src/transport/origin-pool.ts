import { readFileSync } from "node:fs";
import { Pool } from "undici";
import type { EndpointUrl } from "./endpoint-url.js";
import type { TransportOptions } from "./types.js";

/** Counters kept per pool key for OriginStats. */
export interface OriginCounters {
  requests: number;
  connects: number;
  retries: number;
  timeouts: { connect: number; read: number; write: number; call: number };
}

/**
 * The connection pool of one origin (host:port or socket file). `poolSize` caps its
 * connections. `poolTtlMs` bounds a connection's age: every TTL the pool is replaced by a
 * fresh one and the old one is closed gracefully, so idle connections go at once and busy
 * ones right after their request, as StateFun's async transport does.
 */
export class OriginPool {
  readonly counters: OriginCounters = {
    requests: 0,
    connects: 0,
    retries: 0,
    timeouts: { connect: 0, read: 0, write: 0, call: 0 },
  };
  private pool: Pool;
  private bornAt = Date.now();
  private readonly retired: Pool[] = [];

  constructor(
    readonly key: string,
    private readonly url: EndpointUrl,
    private readonly options: TransportOptions,
  ) {
    this.pool = this.createPool();
  }

  /** The pool to send the next request on, rotated when older than the TTL. */
  current(): Pool {
    const ttl = this.options.poolTtlMs;
    if (ttl > 0 && Date.now() - this.bornAt >= ttl) {
      const old = this.pool;
      this.pool = this.createPool();
      this.bornAt = Date.now();
      this.retired.push(old);
      void old.close().finally(() => this.retired.splice(this.retired.indexOf(old), 1));
    }
    return this.pool;
  }

  stats(): { connected: number; free: number } {
    const pools = [this.pool, ...this.retired];
    return {
      connected: pools.reduce((sum, pool) => sum + pool.stats.connected, 0),
      free: pools.reduce((sum, pool) => sum + pool.stats.free, 0),
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.pool, ...this.retired].map((pool) => pool.destroy().catch(() => {})));
  }

  private createPool(): Pool {
    const { url, options } = this;
    const tls = options.tls;
    const pool = new Pool(url.origin, {
      connections: options.poolSize,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      // Our own timers enforce read and call deadlines precisely; undici's are ~1 s coarse.
      headersTimeout: 0,
      bodyTimeout: 0,
      allowH2: options.http2 === true,
      connect: {
        timeout: options.connectTimeoutMs,
        ...(url.socketPath ? { socketPath: url.socketPath } : {}),
        ...(url.tls && url.socketPath ? { servername: "localhost" } : {}),
        ...(tls?.trustCaCerts?.length ? { ca: tls.trustCaCerts.map((file) => readFileSync(file)) } : {}),
        ...(tls?.clientCert ? { cert: readFileSync(tls.clientCert) } : {}),
        ...(tls?.clientKey ? { key: readFileSync(tls.clientKey) } : {}),
        ...(tls?.clientKeyPasswordFile
          ? { passphrase: readFileSync(tls.clientKeyPasswordFile, "utf8").trim() }
          : {}),
      },
    });
    pool.on("connect", () => {
      this.counters.connects++;
    });
    return pool;
  }
}

/** Pools are shared by every caller whose options shape the pool the same way. */
export function poolKey(url: EndpointUrl, options: TransportOptions): string {
  const tls = options.tls;
  return [
    url.poolKey,
    options.poolSize,
    options.poolTtlMs,
    options.connectTimeoutMs,
    options.http2 ? "h2" : "h1",
    tls ? JSON.stringify(tls) : "",
  ].join("|");
}
