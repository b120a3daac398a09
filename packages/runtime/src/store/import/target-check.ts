import type pg from "pg";
import { DEFAULT_LEASE_MS } from "../../cluster/ownership.js";
import { StoreErrors } from "../../errors/store-errors.js";
import { SwitchboardError } from "../../errors/switchboard-error.js";
import type { Transaction } from "../postgres/transaction.js";

/** The cluster tables that must hold no row for an import (specs may: first registration wins). */
const DATA_TABLES = ["messages", "state", "timers", "egress", "dead_letters", "suspensions"] as const;

/** What stands in the way of an import into a cluster's database; all empty means none. */
export interface TargetFindings {
  /** Data tables holding rows. */
  readonly tables: readonly string[];
  /** Instances whose heartbeat is younger than the default lease. */
  readonly liveMembers: readonly string[];
  /** Partitions whose lease has not run out (by the server's clock). */
  readonly leasedPartitions: number;
  /**
   * Set when the cluster has handed out egress ids at least as high as the lowest imported
   * record's: an imported record would reach a webhook receiver under an Idempotency-Key
   * (`<egress>/<seq>`) it may have seen already, and be dropped there.
   */
  readonly egressSeqsUsedUpTo?: number;
}

/**
 * Reads whether the cluster can take an import: no rows in its data tables, no instance
 * running (a heartbeat within the default lease, or a partition still leased: importing under
 * a running owner would put rows behind its back), and no egress ids an imported record would
 * repeat. `lowestEgressSeq` is the lowest seq among the records to import.
 */
export async function inspectTarget(
  client: pg.Pool | Transaction,
  lowestEgressSeq: number | undefined,
): Promise<TargetFindings> {
  const exists = DATA_TABLES.map((table) => `EXISTS (SELECT 1 FROM ${table}) AS ${table}`).join(", ");
  const { rows: tableRows } = await client.query<Record<string, boolean>>(`SELECT ${exists}`);
  const tables = DATA_TABLES.filter((table) => tableRows[0]?.[table] === true);
  const { rows: members } = await client.query<{ instance_id: string }>(
    `SELECT instance_id FROM members WHERE heartbeat_at > now() - $1 * interval '1 millisecond'
     ORDER BY instance_id COLLATE "C"`,
    [DEFAULT_LEASE_MS],
  );
  const { rows: leased } = await client.query<{ n: number }>(
    "SELECT count(*)::integer AS n FROM partitions WHERE owner IS NOT NULL AND lease_expires_at > now()",
  );
  const { rows: egress } = await client.query<{ last: string | null }>(
    "SELECT pg_sequence_last_value(pg_get_serial_sequence('egress', 'seq')::regclass) AS last",
  );
  const lastEgressSeq = egress[0]?.last == null ? undefined : Number(egress[0].last);
  const egressClash =
    lowestEgressSeq !== undefined && lastEgressSeq !== undefined && lastEgressSeq >= lowestEgressSeq;
  return {
    tables,
    liveMembers: members.map((row) => row.instance_id),
    leasedPartitions: leased[0]?.n ?? 0,
    ...(egressClash ? { egressSeqsUsedUpTo: lastEgressSeq } : {}),
  };
}

/** SB_STORE_IMPORT_TARGET_NOT_EMPTY naming everything found, unless nothing was. */
export function refuseUnlessEmpty(findings: TargetFindings, where: string): void {
  const reasons: string[] = [];
  if (findings.liveMembers.length > 0 || findings.leasedPartitions > 0) {
    const who =
      findings.liveMembers.length > 0 ? `instances ${findings.liveMembers.join(", ")}` : "an instance";
    reasons.push(
      `${who} ran on it within the last lease (${findings.leasedPartitions} partitions leased): ` +
        "importing under a running cluster would put rows behind their owners' backs; stop every instance " +
        "(a crashed one's partitions are free once its lease runs out)",
    );
  }
  if (findings.tables.length > 0) {
    reasons.push(`it holds ${findings.tables.map((table) => table.replace("_", " ")).join(", ")}`);
  }
  if (findings.egressSeqsUsedUpTo !== undefined) {
    reasons.push(
      `it has handed out egress ids up to ${findings.egressSeqsUsedUpTo}, which imported records would repeat ` +
        "(webhook receivers could drop them as redeliveries)",
    );
  }
  if (reasons.length === 0) return;
  throw new SwitchboardError(
    StoreErrors.IMPORT_TARGET_NOT_EMPTY,
    `the cluster in ${where} cannot take an import: ${reasons.join("; ")}. ` +
      "Import into a new cluster's database (createdb, then store import); nothing was changed",
    {
      tables: [...findings.tables],
      liveMembers: [...findings.liveMembers],
      leasedPartitions: findings.leasedPartitions,
      ...(findings.egressSeqsUsedUpTo !== undefined
        ? { egressSeqsUsedUpTo: findings.egressSeqsUsedUpTo }
        : {}),
    },
  );
}
