/**
 * One failover round of cluster-throughput: two instances on a fresh database with a short
 * lease, a steady trickle of messages over many keys into the survivor's ingress, then kill -9
 * of the other instance at a random point of its heartbeat cycle. Right after the kill one probe
 * message goes to a key in each of the victim's partitions (so every moved partition has work),
 * and the messages then waiting in those partitions are noted. Polled every 10 ms from the kill:
 * when the first of them is applied (its row leaves `messages`), when the survivor owns every
 * moved partition, and when the last of them is applied.
 */
import { randomInt } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { partitionOf } from "../../packages/runtime/src/cluster/partition-hash.js";
import { createBenchDatabase } from "./bench-database.js";
import { startCluster } from "./switchboard-cluster.js";

const FN = "bench/counter";
const PARTITIONS = 128;
const POLL_MS = 10;
const MAX_TRICKLE_IN_FLIGHT = 16;

export interface FailoverOptions {
  readonly round: number;
  readonly leaseMs: number;
  /** Messages per second of the trickle. */
  readonly rate: number;
  readonly keys: number;
  readonly functionUrl: string;
  readonly dir: string;
}

export interface FailoverResult {
  readonly movedPartitions: number;
  /** From the kill, ms. */
  readonly firstAppliedMs: number;
  readonly takenOverMs: number;
  readonly allAppliedMs: number;
  /** Messages of moved partitions waiting when the probes were in. */
  readonly waiting: number;
  /** The trickle's messages until the end of the round: sent, not accepted, skipped (too many unanswered). */
  readonly trickleSent: number;
  readonly trickleFailed: number;
  readonly trickleSkipped: number;
}

export async function failoverRound(options: FailoverOptions): Promise<FailoverResult> {
  const database = await createBenchDatabase("failover");
  try {
    const cluster = await startCluster({
      store: { kind: "postgres", database, leaseMs: options.leaseMs },
      instances: 2,
      functionUrl: options.functionUrl,
      dir: options.dir,
      idPrefix: `r${options.round}-i`,
    });
    const client = new pg.Client({ connectionString: database.url });
    client.on("error", () => {});
    await client.connect();
    try {
      const [survivor, victim] = cluster.members as [
        (typeof cluster.members)[0],
        (typeof cluster.members)[0],
      ];
      const owners = await cluster.owners();
      const moved = [...owners].filter(([, owner]) => owner === victim.id).map(([partition]) => partition);
      let lastRefusal = "";
      const send = async (id: string): Promise<boolean> => {
        try {
          const response = await fetch(`${survivor.ingressUrl}/${FN}/${id}`, { method: "POST", body: "1" });
          const body = await response.text();
          if (response.status !== 202) lastRefusal = `${response.status} ${body}`;
          return response.status === 202;
        } catch (error) {
          lastRefusal = String(error);
          return false;
        }
      };
      const trickle = startTrickle(send, options.rate, options.keys);
      try {
        await sleep(1000);
        // A random point of the victim's heartbeat cycle (a third of the lease), as a crash would.
        await sleep(randomInt(Math.max(1, Math.floor(options.leaseMs / 3))));
        victim.cli.child.kill("SIGKILL");
        const killedAt = performance.now();
        const probes = moved.map((partition) => probeKey(partition, options.round));
        const accepted = await Promise.all(probes.map(send));
        if (!accepted.every(Boolean)) throw new Error(`a probe message was not accepted: ${lastRefusal}`);
        const { rows } = await client.query<{ seq: string }>(
          "SELECT seq FROM messages WHERE partition = ANY($1::integer[])",
          [moved],
        );
        const seqs = rows.map((row) => row.seq);
        let firstAppliedMs: number | undefined;
        let takenOverMs: number | undefined;
        const deadline = killedAt + 10 * options.leaseMs + 30_000;
        for (;;) {
          const { rows: polled } = await client.query<{ waiting: number; taken: number }>(
            `SELECT (SELECT count(*)::integer FROM messages WHERE seq = ANY($1::bigint[])) AS waiting,
                    (SELECT count(*)::integer FROM partitions WHERE partition = ANY($2::integer[]) AND owner = $3) AS taken`,
            [seqs, moved, survivor.id],
          );
          const now = performance.now() - killedAt;
          const { waiting, taken } = polled[0] as { waiting: number; taken: number };
          if (firstAppliedMs === undefined && waiting < seqs.length) firstAppliedMs = now;
          if (takenOverMs === undefined && taken === moved.length) takenOverMs = now;
          if (waiting === 0 && takenOverMs !== undefined) {
            return {
              movedPartitions: moved.length,
              firstAppliedMs: firstAppliedMs ?? now,
              takenOverMs,
              allAppliedMs: now,
              waiting: seqs.length,
              trickleSent: trickle.counts.sent,
              trickleFailed: trickle.counts.failed,
              trickleSkipped: trickle.counts.skipped,
            };
          }
          if (performance.now() > deadline) {
            throw new Error(
              `moved partitions not applied: ${waiting} of ${seqs.length} waiting, ${taken} taken`,
            );
          }
          await sleep(POLL_MS);
        }
      } finally {
        await trickle.stop();
      }
    } finally {
      await client.end().catch(() => {});
      await cluster.stop();
    }
  } finally {
    await database.drop();
  }
}

/** A key of this round whose address falls in `partition`. */
function probeKey(partition: number, round: number): string {
  for (let n = 0; ; n++) {
    const id = `probe-${round}-${n}`;
    if (partitionOf(FN, id, PARTITIONS) === partition) return id;
  }
}

/**
 * `rate` messages a second to random keys, sent every 10 ms without waiting for the answers,
 * but never more than MAX_TRICKLE_IN_FLIGHT unanswered: on a machine too busy to keep up, a
 * send that is due then is skipped (counted), so the trickle cannot bury the survivor.
 */
function startTrickle(send: (id: string) => Promise<boolean>, rate: number, keys: number) {
  const counts = { sent: 0, failed: 0, skipped: 0 };
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (counts.sent + counts.skipped < due) {
      if (inFlight.size >= MAX_TRICKLE_IN_FLIGHT) {
        counts.skipped++;
        continue;
      }
      counts.sent++;
      const request: Promise<void> = send(`k${randomInt(keys)}`).then((ok) => {
        if (!ok) counts.failed++;
        inFlight.delete(request);
      });
      inFlight.add(request);
    }
  }, 10);
  return {
    counts,
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
    },
  };
}
