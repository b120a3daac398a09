import { lookup as dnsLookup } from "node:dns";
import { readFileSync } from "node:fs";
import { isIP, type LookupFunction, type Socket } from "node:net";
import type { Dispatcher } from "undici";
import { buildConnector } from "undici";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { TransportErrors } from "../errors/transport-errors.js";
import { ClientPool } from "./client-pool.js";
import type { EndpointUrl } from "./endpoint-url.js";
import { HookedPool } from "./hooked-pool.js";
import { isTlsErrorCode } from "./transport-error.js";
import type { TlsOptions, TransportOptions } from "./types.js";

/** Counters kept per pool key for OriginStats. */
export interface OriginCounters {
  requests: number;
  connects: number;
  retries: number;
  timeouts: { connect: number; read: number; write: number; call: number };
}

/** How long an idle pooled connection is kept; servers usually keep theirs about as long. */
const KEEP_ALIVE_MS = 30_000;

/**
 * The connection pool of one origin (host:port or socket file). `poolSize` caps its
 * connections. `poolTtlMs` bounds each connection's age, counted from its own connect:
 * the pool retires an older connection when it next picks or frees it, closing it gracefully
 * (an idle one at once, a busy one right after its request), as StateFun's async transport
 * does. Connections age one by one, so a TTL never drops a whole warm pool at once unless
 * it was all opened at once.
 */
export class OriginPool {
  readonly counters: OriginCounters = {
    requests: 0,
    connects: 0,
    retries: 0,
    timeouts: { connect: 0, read: 0, write: 0, call: 0 },
  };
  private readonly pool: ClientPool | HookedPool;

  /** Throws SB_TRANSPORT_TLS when the TLS files cannot be used; nothing is cached then. */
  constructor(
    readonly key: string,
    url: EndpointUrl,
    options: TransportOptions,
    rawUrl: string,
  ) {
    const poolOptions = {
      connections: options.poolSize,
      pipelining: 1,
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: KEEP_ALIVE_MS,
      ...(options.poolTtlMs > 0 ? { clientTtl: options.poolTtlMs } : {}),
      // Our own timers enforce connect, write, read and call deadlines precisely; undici's
      // header and body timers are about a second coarse, so they are off.
      headersTimeout: 0,
      bodyTimeout: 0,
      allowH2: options.http2 === true,
      connect: guardedConnector(url, options, rawUrl),
    };
    this.pool =
      options.http2 === true
        ? new HookedPool(url.origin, poolOptions)
        : new ClientPool(url.origin, poolOptions);
    this.pool.on("connect", () => {
      this.counters.connects++;
    });
  }

  /** The pool to send the next request on. */
  current(): Dispatcher {
    return this.pool;
  }

  stats(): { connected: number; free: number } {
    const { connected, free } = this.pool.stats;
    return { connected, free };
  }

  async close(): Promise<void> {
    await this.pool.destroy().catch(() => {});
  }
}

/**
 * Checks the address of every new connection with the guard: an IP host before connecting,
 * a hostname's addresses as DNS answers them to the connect itself (net uses `lookup`).
 */
function guardedConnector(
  url: EndpointUrl,
  options: TransportOptions,
  rawUrl: string,
): buildConnector.connector {
  const guard = options.addressGuard;
  if (!guard || url.socketPath) return tlsAwareConnector(url, options, rawUrl);
  const port = Number(new URL(url.origin).port) || (url.tls ? 443 : 80);
  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error) return (callback as (error: Error) => void)(error);
      for (const { address } of addresses) {
        const refused = guard.check(hostname, address, port);
        if (refused) return (callback as (error: Error) => void)(refused);
      }
      // Answer in the form asked for: net asks for every address when it races families.
      if (lookupOptions.all) return (callback as (e: null, a: typeof addresses) => void)(null, addresses);
      const [first] = addresses;
      (callback as (e: null, a: string, f: number) => void)(null, first?.address ?? "", first?.family ?? 4);
    });
  };
  const connect = tlsAwareConnector(url, options, rawUrl, { lookup });
  return (connectOptions, callback) => {
    const bare = connectOptions.hostname.replace(/^\[|\]$/g, "");
    // net skips lookup for an IP host: check it here.
    const refused = isIP(bare) !== 0 ? guard.check(connectOptions.hostname, bare, port) : undefined;
    if (refused) {
      (callback as (error: Error, socket: null) => void)(refused, null);
      return;
    }
    connect(connectOptions, callback);
  };
}

/**
 * undici's connector with the TLS files loaded up front, plus one repair: when a TLS peer
 * rejects us after the handshake (TLS 1.3 reports a missing client certificate that way),
 * the socket's TLS error is followed by an end of stream that undici would report as
 * "other side closed". Destroying the socket on the TLS error keeps the real cause.
 */
function tlsAwareConnector(
  url: EndpointUrl,
  options: TransportOptions,
  rawUrl: string,
  socketOptions: { lookup?: LookupFunction } = {},
): buildConnector.connector {
  const connect = buildConnector({
    ...socketOptions,
    timeout: options.connectTimeoutMs,
    allowH2: options.http2 === true,
    ...(url.socketPath ? { socketPath: url.socketPath } : {}),
    ...(url.tls ? tlsFiles(options.tls, rawUrl) : {}),
    ...(url.tls && url.socketPath ? { servername: "localhost" } : {}),
  } as buildConnector.BuildOptions);
  if (!url.tls) return connect;
  return (connectOptions, callback) =>
    connect(connectOptions, (error, socket) => {
      socket?.on("error", (socketError: NodeJS.ErrnoException) => {
        if (isTlsErrorCode(socketError.code)) (socket as Socket).destroy();
      });
      (callback as (error: Error | null, socket: Socket | null) => void)(error, socket as Socket | null);
    });
}

function tlsFiles(tls: TlsOptions | undefined, rawUrl: string): Record<string, unknown> {
  if (!tls) return {};
  if (Boolean(tls.clientCert) !== Boolean(tls.clientKey)) {
    throw new SwitchboardError(
      TransportErrors.TLS,
      `TLS for ${rawUrl}: a client certificate and key go together: give both or neither`,
      { url: rawUrl },
    );
  }
  const read = (file: string, what: string, encoding?: "utf8") => {
    try {
      return readFileSync(file, encoding);
    } catch (error) {
      throw new SwitchboardError(
        TransportErrors.TLS,
        `TLS for ${rawUrl}: cannot read the ${what} ${file}: ${(error as Error).message}`,
        { url: rawUrl, file },
        { cause: error },
      );
    }
  };
  return {
    ...(tls.trustCaCerts?.length
      ? { ca: tls.trustCaCerts.map((file) => read(file, "trusted CA file")) }
      : {}),
    ...(tls.clientCert ? { cert: read(tls.clientCert, "client certificate") } : {}),
    ...(tls.clientKey ? { key: read(tls.clientKey, "client key") } : {}),
    ...(tls.clientKeyPasswordFile
      ? { passphrase: String(read(tls.clientKeyPasswordFile, "key password file", "utf8")).trim() }
      : {}),
  };
}

/**
 * The pool-shaping part of the options: pools are shared by every caller of one origin
 * whose options shape the pool the same way.
 */
export function poolKey(options: TransportOptions): string {
  const tls = options.tls;
  return [
    options.poolSize,
    options.poolTtlMs,
    options.connectTimeoutMs,
    options.http2 ? "h2" : "h1",
    tls ? JSON.stringify(tls) : "",
    options.addressGuard?.key ?? "",
  ].join("|");
}
