import type { ClusterStatus } from "../store/postgres/cluster-status.js";

/** `switchboard store status` as text: the cluster, its members, then every partition. */
export function formatClusterStatus(status: ClusterStatus, where: string): string {
  const queued = status.partitions.reduce((sum, partition) => sum + partition.queued, 0);
  const lines = [
    `store ${where}`,
    `schema version ${status.schemaVersion}, ${status.partitionCount} partitions, created ${status.createdAt.toISOString()}, ${queued} messages queued`,
    "",
    `members (${status.members.length}):`,
    ...table(
      ["instance", "host", "ports", "heartbeat", "partitions"],
      status.members.map((member) => [
        member.instanceId,
        member.host,
        Object.entries(member.ports)
          .map(([name, port]) => `${name}=${port}`)
          .join(" ") || "-",
        `${seconds(member.heartbeatAgeMs)} ago`,
        String(member.partitions),
      ]),
    ),
    "",
    "partitions:",
    ...table(
      ["partition", "owner", "epoch", "lease", "queued"],
      status.partitions.map((partition) => [
        String(partition.partition),
        partition.owner ?? "-",
        String(partition.epoch),
        lease(partition.leaseRemainingMs),
        String(partition.queued),
      ]),
    ),
  ];
  return `${lines.join("\n")}\n`;
}

function lease(remainingMs: number | null): string {
  if (remainingMs === null) return "-";
  return remainingMs >= 0 ? `${seconds(remainingMs)} left` : `expired ${seconds(-remainingMs)} ago`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  if (rows.length === 0) return ["  (none)"];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    `  ${cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd()}`;
  return [line(header), ...rows.map(line)];
}
