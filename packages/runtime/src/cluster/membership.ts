import { MEMBERS_CHANNEL } from "./partition-channel.js";
import type { SqlClient } from "./sql-client.js";

/** How an instance describes itself in the members table (shown by `switchboard store status`). */
export interface MemberAddress {
  readonly instanceId: string;
  readonly host: string;
  /** Listener names to ports, e.g. `{ admin: 8099, ingress: 8090 }`. */
  readonly ports: Readonly<Record<string, number>>;
}

/** Adds or refreshes this instance's row; its heartbeat is the server's now(). */
export async function heartbeat(client: SqlClient, member: MemberAddress): Promise<void> {
  await client.query(
    `INSERT INTO members (instance_id, host, ports) VALUES ($1, $2, $3)
     ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = now(), host = excluded.host, ports = excluded.ports`,
    [member.instanceId, member.host, JSON.stringify(member.ports)],
  );
}

/** Removes this instance's row: it no longer counts when the others share the partitions. */
export async function deregister(client: SqlClient, instanceId: string): Promise<void> {
  await client.query("DELETE FROM members WHERE instance_id = $1", [instanceId]);
}

/**
 * The instance ids whose heartbeat is younger than `leaseMs` by the server's clock, sorted,
 * so every instance reading the table at once gets the same list. Rows dead for more than
 * `forgetAfterMs` are deleted on the way.
 */
export async function liveMembers(
  client: SqlClient,
  leaseMs: number,
  forgetAfterMs: number,
): Promise<string[]> {
  await client.query("DELETE FROM members WHERE heartbeat_at < now() - $1 * interval '1 millisecond'", [
    forgetAfterMs,
  ]);
  const { rows } = await client.query<{ instance_id: string }>(
    "SELECT instance_id FROM members WHERE heartbeat_at > now() - $1 * interval '1 millisecond' ORDER BY instance_id COLLATE \"C\"",
    [leaseMs],
  );
  return rows.map((row) => row.instance_id);
}

/** Tells listening instances that this one joined, released partitions or left. */
export async function announce(client: SqlClient, instanceId: string): Promise<void> {
  await client.query("SELECT pg_notify($1, $2)", [MEMBERS_CHANNEL, instanceId]);
}
