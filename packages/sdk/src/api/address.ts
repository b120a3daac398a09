/** A function instance: its typename (`namespace/name`) and id. */
export interface Address {
  readonly namespace: string;
  readonly name: string;
  readonly id: string;
  /** `namespace/name`. */
  readonly typename: string;
}

/** Splits a typename at its LAST '/', as every StateFun SDK does. */
export function splitTypename(typename: string): { namespace: string; name: string } {
  const slash = typename.lastIndexOf("/");
  if (slash <= 0 || slash === typename.length - 1) {
    throw new TypeError(`"${typename}" is not a typename: expected namespace/name`);
  }
  return { namespace: typename.slice(0, slash), name: typename.slice(slash + 1) };
}

export function address(typename: string, id: string): Address {
  const { namespace, name } = splitTypename(typename);
  return { namespace, name, id, typename };
}
