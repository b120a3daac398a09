import { isIP } from "node:net";
import { ClusterErrors } from "../errors/cluster-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";

/** A DNS name's label: letters, digits, hyphens inside, underscores (seen in container names). */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;

/**
 * `--advertise-host` (SWITCHBOARD_ADVERTISE_HOST): the host other instances dial to reach this
 * one's admin server, as written to its members row. A DNS name, an IPv4 literal or an IPv6
 * literal (brackets optional, stored without them; no zone id, which a URL cannot carry).
 * Anything else, a URL or a host with a port say, is SB_CLUSTER_BAD_ADVERTISE_HOST.
 */
export function parseAdvertiseHost(raw: string): string {
  const trimmed = raw.trim();
  const bare = trimmed.startsWith("[") && trimmed.endsWith("]") ? trimmed.slice(1, -1) : trimmed;
  if (isIP(bare) === 6 && !bare.includes("%")) return bare;
  if (bare === trimmed && isDnsNameOrIpv4(bare)) return bare;
  throw new SwitchboardError(
    ClusterErrors.BAD_ADVERTISE_HOST,
    `--advertise-host must be a host name, an IPv4 address or an IPv6 address that other instances can dial, without scheme or port, not ${JSON.stringify(raw)}`,
    { advertiseHost: raw },
  );
}

function isDnsNameOrIpv4(host: string): boolean {
  if (isIP(host) === 4) return true;
  if (host.length === 0 || host.length > 253) return false;
  const labels = host.split(".");
  // An all-numeric last label makes a URL read the name as an IPv4 address: 10.0.0.300 is not a name.
  if (/^\d+$/.test(labels[labels.length - 1] ?? "")) return false;
  return labels.every((label) => LABEL.test(label));
}
