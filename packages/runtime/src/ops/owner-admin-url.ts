import { hostname } from "node:os";

/** What a members row says about where an instance listens. */
export interface MemberLocation {
  /** Undefined when the member has no row any more. */
  readonly host: string | undefined;
  readonly ports: Readonly<Record<string, number>>;
}

/**
 * Where another instance's admin server is dialled (forwarded admin actions): loopback when its
 * row carries this machine's name (the default host, and the admin port binds 127.0.0.1 by
 * default), otherwise the row's host as it is: a name, or an address it advertised
 * (`--advertise-host`), IPv6 in brackets. Undefined without an admin port in the row.
 */
export function memberAdminUrl(member: MemberLocation, machineName: string = hostname()): string | undefined {
  const port = member.ports.admin;
  if (member.host === undefined || typeof port !== "number" || !Number.isInteger(port) || port <= 0) {
    return undefined;
  }
  const host = member.host === machineName ? "127.0.0.1" : member.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
