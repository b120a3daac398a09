/**
 * How many partitions `self` should own when `members` (every live instance, sorted the same
 * way by every instance) share `partitionCount`: each gets the floor of the even share, and
 * the first `partitionCount % members` instances in that order one more. Every instance
 * computes the same split from the same members list, so no one needs to coordinate it.
 * An instance missing from `members` (its own heartbeat not yet visible) counts itself in.
 */
export function fairShare(members: readonly string[], self: string, partitionCount: number): number {
  const everyone = members.includes(self) ? members : [...members, self].sort(compareIds);
  const base = Math.floor(partitionCount / everyone.length);
  const extra = partitionCount % everyone.length;
  return base + (everyone.indexOf(self) < extra ? 1 : 0);
}

/** The same byte order as PostgreSQL's `COLLATE "C"`, for ASCII ids. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
