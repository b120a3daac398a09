import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";

interface HostPattern {
  readonly scheme: string;
  /** Exact host, or a suffix when `wildcard` (`*.example.com` matches `a.example.com`). */
  readonly host: string;
  readonly wildcard: boolean;
  /** undefined = any port. */
  readonly port: number | undefined;
  readonly text: string;
}

const RESOLVE_CACHE_MS = 5000;

const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "https:": 443 };

/** Hostnames and addresses that answer cloud instance-metadata requests. */
const METADATA_HOSTS = new Set([
  "metadata.google.internal",
  "metadata.goog",
  "metadata",
  "instance-data",
  "100.100.100.200",
  "fd00:ec2::254",
  "169.254.169.254",
  "169.254.170.2",
]);

/** Parses an allow-list entry; throws a plain Error with the reason (config validation). */
export function parseHostPattern(text: string): HostPattern {
  const match = /^(https?):\/\/(\*\.)?([^/:[\]]+|\[[0-9a-fA-F:.]+\])(?::(\d+|\*))?\/?$/.exec(text);
  if (!match) {
    throw new Error(
      `"${text}" is not a host pattern like https://api.example.com, https://*.example.com or http://127.0.0.1:*`,
    );
  }
  const scheme = `${match[1]}:`;
  const portText = match[4];
  return {
    scheme,
    wildcard: match[2] !== undefined,
    host: (match[3] as string).toLowerCase().replace(/^\[|\]$/g, ""),
    port: portText === "*" ? undefined : portText === undefined ? DEFAULT_PORTS[scheme] : Number(portText),
    text,
  };
}

/**
 * Where a module's functions may call. With an allow-list, only matching scheme/host/port;
 * always (unless allowed explicitly) no link-local or cloud-metadata addresses, whether
 * written as such or resolved from a hostname (see docs/host.md for what this cannot catch).
 */
export class OutboundPolicy {
  private readonly allow: readonly HostPattern[] | undefined;
  /** Hostname -> when its addresses were last found clean; DNS is not asked on every call. */
  private readonly cleanHosts = new Map<string, number>();

  constructor(
    allow: readonly string[] | undefined,
    private readonly allowLinkLocal: boolean,
    private readonly resolve: (host: string) => Promise<Array<{ address: string }>> = (host) =>
      lookup(host, { all: true }),
  ) {
    this.allow = allow?.map(parseHostPattern);
  }

  /** `check`, plus the addresses a hostname resolves to (cached for a few seconds). */
  async checkResolved(url: URL): Promise<void> {
    this.check(url);
    if (this.allowLinkLocal) return;
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (isIP(host) !== 0) return;
    const now = Date.now();
    const checkedAt = this.cleanHosts.get(host);
    if (checkedAt !== undefined && now - checkedAt < RESOLVE_CACHE_MS) return;
    let addresses: Array<{ address: string }>;
    try {
      addresses = await this.resolve(host);
    } catch {
      return; // the transport reports an unresolvable host the usual way
    }
    for (const { address } of addresses) {
      const normal = address.toLowerCase();
      if (METADATA_HOSTS.has(normal))
        refuse(url, "cloud-metadata", `${host} resolves to the cloud metadata address ${address}`);
      if (isLinkLocal(normal))
        refuse(url, "link-local", `${host} resolves to the link-local address ${address}`);
    }
    if (this.cleanHosts.size > 10_000) this.cleanHosts.clear();
    this.cleanHosts.set(host, now);
  }

  check(url: URL): void {
    const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
    if (!this.allowLinkLocal) {
      if (METADATA_HOSTS.has(host))
        refuse(url, "cloud-metadata", "cloud metadata endpoints are never called");
      if (isLinkLocal(host))
        refuse(url, "link-local", "link-local addresses (169.254.0.0/16, fe80::/10) are refused by default");
    }
    if (!this.allow) return;
    const port = url.port === "" ? DEFAULT_PORTS[url.protocol] : Number(url.port);
    const allowed = this.allow.some(
      (pattern) =>
        pattern.scheme === url.protocol &&
        (pattern.port === undefined || pattern.port === port) &&
        (pattern.wildcard ? host.endsWith(`.${pattern.host}`) : host === pattern.host),
    );
    if (!allowed) {
      refuse(
        url,
        "outbound.allow",
        `${url.protocol}//${url.host} matches no entry of outbound.allow (${this.allow.map((pattern) => pattern.text).join(", ")})`,
      );
    }
  }
}

function isLinkLocal(host: string): boolean {
  const family = isIP(host);
  if (family === 4) return host.startsWith("169.254.");
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
    if (mapped) return (mapped[1] as string).startsWith("169.254.");
    if (/^::ffff:a9fe:/i.test(host)) return true;
    const first = Number.parseInt(host.split(":")[0] || "0", 16);
    return (first & 0xffc0) === 0xfe80;
  }
  return false;
}

function refuse(url: URL, rule: string, why: string): never {
  throw new SwitchboardError(
    HostErrors.OUTBOUND_REFUSED,
    `the call to ${url.origin} was refused by rule ${rule}: ${why}`,
    {
      rule,
      origin: url.origin,
    },
  );
}
