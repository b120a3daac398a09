import { isIP } from "node:net";
import { isOwnListener } from "../io/own-listeners.js";

/** Why an address is not for hosted functions to call unless named explicitly. */
export type AddressRule = "loopback" | "own-listener" | "link-local" | "cloud-metadata";

/** Hostnames and addresses that answer cloud instance-metadata requests. */
export const METADATA_HOSTS = new Set([
  "metadata.google.internal",
  "metadata.goog",
  "metadata",
  "instance-data",
  "100.100.100.200",
  "fd00:ec2::254",
  "169.254.169.254",
  "169.254.170.2",
]);

/** Names that always mean this machine (RFC 6761), whatever DNS says. */
export function isLoopbackName(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost");
}

/**
 * The rule an IP address (as URL parsing or DNS gives it) falls under, if any. IPv4-mapped
 * and IPv4-compatible IPv6 forms are judged by their IPv4 address; 0.0.0.0 and :: reach
 * this machine on Linux, so they count as loopback.
 */
export function classifyAddress(address: string, port: number): AddressRule | undefined {
  const normal = address
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/%.*$/, "");
  if (METADATA_HOSTS.has(normal)) return "cloud-metadata";
  const v4 = isIP(normal) === 4 ? normal : embeddedIpv4(normal);
  if (v4 !== undefined) {
    if (METADATA_HOSTS.has(v4)) return "cloud-metadata";
    if (v4.startsWith("127.") || v4.startsWith("0.")) return "loopback";
    if (v4.startsWith("169.254.")) return "link-local";
  } else if (isIP(normal) === 6) {
    const groups = expandIpv6(normal);
    if (groups.slice(0, 7).every((group) => group === 0) && (groups[7] === 0 || groups[7] === 1)) {
      return "loopback";
    }
    if (((groups[0] ?? 0) & 0xffc0) === 0xfe80) return "link-local";
  }
  if (isOwnListener(normal, port) || (v4 !== undefined && isOwnListener(v4, port))) return "own-listener";
  return undefined;
}

/** The IPv4 address inside ::ffff:a.b.c.d, ::ffff:XXXX:XXXX or ::a.b.c.d, if any. */
function embeddedIpv4(address: string): string | undefined {
  if (isIP(address) !== 6) return undefined;
  const groups = expandIpv6(address);
  const mapped = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
  const compatible = groups.slice(0, 6).every((group) => group === 0) && (groups[6] ?? 0) !== 0;
  if (!mapped && !compatible) return undefined;
  const high = groups[6] ?? 0;
  const low = groups[7] ?? 0;
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** Eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part included). */
function expandIpv6(address: string): number[] {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = (dotted[1] as string).split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const parse = (part: string) =>
    part === "" ? [] : part.split(":").map((group) => Number.parseInt(group, 16));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  const zeros = tail === undefined ? 0 : 8 - front.length - back.length;
  return [...front, ...new Array<number>(Math.max(0, zeros)).fill(0), ...back];
}
