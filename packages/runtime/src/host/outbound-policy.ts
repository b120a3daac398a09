import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { HostErrors } from "../errors/host-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { AddressGuard } from "../transport/types.js";
import { type AddressRule, classifyAddress, isLoopbackName, METADATA_HOSTS } from "./address-class.js";

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
 * Where a module's functions may call. With an allow-list, only matching scheme/host/port.
 * Always, whether written as such or resolved from a hostname (at connect time too):
 * - no loopback (127.0.0.0/8, ::1, 0.0.0.0, localhost) and none of this process's own
 *   listeners, unless the allow-list names that host exactly (no `*.`), or the call goes
 *   to an upstream (the operator named it in the module YAML);
 * - no link-local or cloud-metadata addresses unless `allowLinkLocal`.
 */
export class OutboundPolicy {
  private readonly allow: readonly HostPattern[] | undefined;
  /** Hostname and port -> when its addresses were last found clean; DNS is not asked on every call. */
  private readonly cleanHosts = new Map<string, number>();

  constructor(
    allow: readonly string[] | undefined,
    private readonly allowLinkLocal: boolean,
    private readonly resolve: (host: string) => Promise<Array<{ address: string }>> = (host) =>
      lookup(host, { all: true }),
  ) {
    this.allow = allow?.map(parseHostPattern);
  }

  /**
   * `check`, plus the addresses a hostname resolves to now (cached for a few seconds): an
   * early, clear refusal. The connect-time check is `connectGuard`'s.
   */
  async checkResolved(url: URL, upstream = false): Promise<void> {
    this.check(url, upstream);
    const explicit = upstream || this.namesExactly(url);
    if (this.allowLinkLocal && explicit) return;
    const host = bareHost(url);
    if (isIP(host) !== 0) return;
    const port = portOf(url);
    const key = `${host}:${port}`;
    const now = Date.now();
    const checkedAt = this.cleanHosts.get(key);
    if (checkedAt !== undefined && now - checkedAt < RESOLVE_CACHE_MS) return;
    let addresses: Array<{ address: string }>;
    try {
      addresses = await this.resolve(host);
    } catch {
      return; // the transport reports an unresolvable host the usual way
    }
    for (const { address } of addresses) {
      const rule = classifyAddress(address, port);
      if (rule && !this.permits(rule, explicit))
        refuse(url, rule, `${host} resolves to ${address}: ${WHY[rule]}`);
    }
    if (this.cleanHosts.size > 10_000) this.cleanHosts.clear();
    this.cleanHosts.set(key, now);
  }

  /** Checks the URL as written (URL parsing has already turned 2130706433 or 0177.0.0.1 into 127.0.0.1). */
  check(url: URL, upstream = false): void {
    const host = bareHost(url);
    const rule: AddressRule | undefined = METADATA_HOSTS.has(host)
      ? "cloud-metadata"
      : isLoopbackName(host)
        ? "loopback"
        : isIP(host) !== 0
          ? classifyAddress(host, portOf(url))
          : undefined;
    const local = rule === "loopback" || rule === "own-listener";
    if (rule && !local && !this.allowLinkLocal) refuse(url, rule, WHY[rule]);
    if (this.allow && !this.allow.some((pattern) => matches(pattern, url, host))) {
      refuse(
        url,
        "outbound.allow",
        `${url.protocol}//${url.host} matches no entry of outbound.allow (${this.allow.map((pattern) => pattern.text).join(", ")})`,
      );
    }
    if (rule && local && !(upstream || this.namesExactly(url))) refuse(url, rule, WHY[rule]);
  }

  /** The connect-time check for a call to `url` that `check` let through. */
  connectGuard(url: URL, upstream = false): AddressGuard {
    const explicit = upstream || this.namesExactly(url);
    return GUARDS[
      `${explicit ? "explicit" : "strict"}${this.allowLinkLocal ? "+link-local" : ""}`
    ] as AddressGuard;
  }

  private permits(rule: AddressRule, explicit: boolean): boolean {
    return rule === "loopback" || rule === "own-listener" ? explicit : this.allowLinkLocal;
  }

  /** Whether an allow-list entry names this very host (not through `*.`) for this scheme and port. */
  private namesExactly(url: URL): boolean {
    const host = bareHost(url);
    return this.allow?.some((pattern) => !pattern.wildcard && matches(pattern, url, host)) ?? false;
  }
}

const WHY: Record<AddressRule, string> = {
  loopback:
    "loopback addresses (127.0.0.0/8, ::1, 0.0.0.0, localhost) are refused unless outbound.allow names the host",
  "own-listener":
    "Switchboard's own listeners (admin, ingress, egress, web) are refused unless outbound.allow names the host",
  "link-local": "link-local addresses (169.254.0.0/16, fe80::/10) are refused by default",
  "cloud-metadata": "cloud metadata endpoints are never called",
};

/** One guard per combination, so calls with the same rules share their connections. */
const GUARDS: Record<string, AddressGuard> = Object.fromEntries(
  [false, true].flatMap((explicit) =>
    [false, true].map((linkLocal) => {
      const key = `${explicit ? "explicit" : "strict"}${linkLocal ? "+link-local" : ""}`;
      const guard: AddressGuard = {
        key: `hosted:${key}`,
        check(hostname, address, port) {
          const rule = classifyAddress(address, port);
          if (!rule) return undefined;
          const permitted = rule === "loopback" || rule === "own-listener" ? explicit : linkLocal;
          if (permitted) return undefined;
          return refusal(
            `${hostname}:${port}`,
            rule,
            `${hostname} resolved to ${address} when connecting: ${WHY[rule]}`,
          );
        },
      };
      return [key, guard];
    }),
  ),
);

function matches(pattern: HostPattern, url: URL, host: string): boolean {
  return (
    pattern.scheme === url.protocol &&
    (pattern.port === undefined || pattern.port === portOf(url)) &&
    (pattern.wildcard ? host.endsWith(`.${pattern.host}`) : host === pattern.host)
  );
}

function bareHost(url: URL): string {
  // "localhost." is "localhost": a trailing dot only makes the name fully qualified.
  return url.hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
}

function portOf(url: URL): number {
  return url.port === "" ? (DEFAULT_PORTS[url.protocol] ?? 0) : Number(url.port);
}

function refuse(url: URL, rule: string, why: string): never {
  throw refusal(url.origin, rule, why);
}

function refusal(origin: string, rule: string, why: string): SwitchboardError {
  return new SwitchboardError(
    HostErrors.OUTBOUND_REFUSED,
    `the call to ${origin} was refused by rule ${rule}: ${why}`,
    { rule, origin },
  );
}
