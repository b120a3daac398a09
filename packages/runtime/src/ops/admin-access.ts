import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { AdminErrors } from "../errors/admin-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";

/** Who may use the admin port: a token for actions, and the interface it binds. */
export interface AdminAccess {
  /** When set, every action (POST, DELETE, ...) needs `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  /** The interface the admin server binds. */
  readonly host: string;
}

/** Whether binding `host` keeps the admin port on this machine. */
export function bindsLoopbackOnly(host: string): boolean {
  const bare = host.toLowerCase().replace(/^\[|\]$/g, "");
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  return bare === "::1";
}

/**
 * Whether other instances dialling `advertised` (a cluster member's host) can never reach an
 * admin server bound to `adminHost`: it binds loopback only and the address is not loopback.
 */
export function advertisesUnreachable(advertised: string, adminHost: string): boolean {
  return bindsLoopbackOnly(adminHost) && !bindsLoopbackOnly(advertised);
}

/**
 * Refuses a configuration that would put the admin API, which moves and drops messages, on
 * the network without a token. Checked before anything starts.
 */
export function checkAdminExposure(access: AdminAccess): void {
  if (access.token || bindsLoopbackOnly(access.host)) return;
  throw new SwitchboardError(
    AdminErrors.TOKEN_REQUIRED,
    `the admin port would bind ${access.host}, beyond loopback, with no admin token: set --admin-token or ` +
      "SWITCHBOARD_ADMIN_TOKEN (actions then need Authorization: Bearer <token>), or bind 127.0.0.1",
    { host: access.host },
  );
}

/** Methods that only read: everything else is an action. */
const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Body types a cross-site HTML form or a "simple" fetch can send without asking first. */
const FORM_TYPES = /^(text\/plain|application\/x-www-form-urlencoded|multipart\/form-data)\b/i;

/**
 * Checks one admin request before it is routed; throws the catalogued refusal. A browser on
 * another site can make requests to 127.0.0.1 (cross-site requests) and, through a DNS name
 * it controls that now resolves to 127.0.0.1, even read the answers (DNS rebinding):
 * - on a loopback port, the Host must be a loopback name for this port;
 * - an action must not come from another origin, nor carry a form body type;
 * - with a token, an action must carry it.
 */
export function checkAdminRequest(request: IncomingMessage, access: AdminAccess, port: number): void {
  const host = request.headers.host;
  if (
    host !== undefined &&
    bindsLoopbackOnly(access.host) &&
    !isLoopbackHostHeader(host, access.host, port)
  ) {
    throw new SwitchboardError(
      AdminErrors.BAD_HOST,
      `the admin port answers to 127.0.0.1:${port} or localhost:${port}, not to ${host}`,
      { host },
    );
  }
  if (READS.has(request.method ?? "GET")) return;
  if (access.token && !carriesToken(request.headers.authorization, access.token)) {
    throw new SwitchboardError(
      AdminErrors.UNAUTHORIZED,
      "this admin action needs the header Authorization: Bearer <the admin token>",
    );
  }
  const origin = request.headers.origin;
  const site = request.headers["sec-fetch-site"];
  const sameOrigin =
    origin === undefined || (host !== undefined && origin.toLowerCase() === `http://${host.toLowerCase()}`);
  if (!sameOrigin || (site !== undefined && site !== "same-origin" && site !== "none")) {
    throw new SwitchboardError(
      AdminErrors.FOREIGN_ORIGIN,
      `admin actions are refused from another site's page (origin ${origin ?? site})`,
      { origin: origin ?? null },
    );
  }
  const type = request.headers["content-type"];
  if (type !== undefined && FORM_TYPES.test(type)) {
    throw new SwitchboardError(
      AdminErrors.UNSUPPORTED_BODY,
      `admin actions take no body; ${type.split(";")[0]} is refused (a cross-site form can send it)`,
    );
  }
}

function isLoopbackHostHeader(header: string, boundHost: string, port: number): boolean {
  let url: URL;
  try {
    url = new URL(`http://${header}`);
  } catch {
    return false;
  }
  const name = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  const given = url.port === "" ? 80 : Number(url.port);
  const names = new Set(["localhost", "127.0.0.1", "::1", boundHost.toLowerCase().replace(/^\[|\]$/g, "")]);
  return given === port && names.has(name);
}

/** Compares digests, so neither the token's length nor its first wrong byte shows in the timing. */
function carriesToken(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  if (!match) return false;
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest((match[1] as string).trim()), digest(token));
}
