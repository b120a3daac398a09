import type { AddressRef } from "../store/records.js";

/** Splits a typename at its LAST '/', as StateFun's SDKs do (namespaces may contain '/'). */
export function splitTypename(typename: string): { namespace: string; name: string } | undefined {
  const slash = typename.lastIndexOf("/");
  if (slash <= 0 || slash === typename.length - 1) return undefined;
  return { namespace: typename.slice(0, slash), name: typename.slice(slash + 1) };
}

export function joinTypename(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** A map key for an address; NUL cannot occur in a typename or an id sent over HTTP paths. */
export function addressKey(address: AddressRef): string {
  return `${address.fn}\u0000${address.id}`;
}

export function formatAddress(address: AddressRef): string {
  return `${address.fn}/${address.id}`;
}
