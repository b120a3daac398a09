import { isIP } from "node:net";
import { networkInterfaces } from "node:os";

/**
 * Where this process's own HTTP servers listen (admin, ingress, egress, web functions), so
 * hosted functions can be kept from calling them: the admin API can drop messages, and an
 * ingress would let a function forge messages from outside. Process-wide on purpose: every
 * runtime in the process is Switchboard's own.
 */
const listening = new Map<number, Set<string>>();

/** Records a bound listener; returns the function that forgets it. */
export function addOwnListener(host: string, port: number): () => void {
  const address = host.toLowerCase().replace(/^\[|\]$/g, "");
  let hosts = listening.get(port);
  if (!hosts) {
    hosts = new Set();
    listening.set(port, hosts);
  }
  hosts.add(address);
  return () => {
    const current = listening.get(port);
    current?.delete(address);
    if (current?.size === 0) listening.delete(port);
  };
}

/** Whether a connection to `address:port` would reach one of this process's listeners. */
export function isOwnListener(address: string, port: number): boolean {
  const hosts = listening.get(port);
  if (!hosts) return false;
  const target = address.toLowerCase();
  for (const host of hosts) {
    if (host === target) return true;
    // A wildcard bind answers on every address of this machine.
    if ((host === "0.0.0.0" || host === "::") && isLocalAddress(target)) return true;
  }
  return false;
}

function isLocalAddress(address: string): boolean {
  if (isIP(address) === 0) return false;
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.address.toLowerCase() === address) return true;
    }
  }
  return false;
}
