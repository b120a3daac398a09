import type pg from "pg";
import { partitionOf } from "../../cluster/partition-hash.js";
import type { BatchRead, BatchReadRequest } from "../contract.js";
import type { StateValue, StoredMessage } from "../records.js";
import type { UnitOutcome } from "./group-commit.js";
import { type MessageRow, toBytes, toMessage } from "./postgres-rows.js";
import { readPreparedRows } from "./read-rows.js";

/** One row of the combined read: request `k`'s, from the part `part` says. */
interface BatchRow extends MessageRow {
  k: string;
  part: 0 | 1 | 2;
  name: string | null;
  expires_at: string | null;
  total: string | null;
}

const HEAD = 0;
const STATE = 1;
const COUNT = 2;

// One row per request: which address, how many messages (NULL: all), the time state expires
// by, and whether to count the backlog.
const REQUESTS = `SELECT * FROM unnest($1::integer[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::boolean[])
  WITH ORDINALITY AS r(partition, fn, id, lim, now, with_count, k)`;

// The parts' order within a request is kept by the ORDER BY, not left to how the union runs.
const READ_BATCHES = `WITH r AS MATERIALIZED (${REQUESTS})
SELECT r.k, ${HEAD} AS part, m.seq, m.fn, m.id, m.caller_fn, m.caller_id, m.typename, m.has_value, m.value,
    m.accepted_at, NULL::text AS name, NULL::bigint AS expires_at, NULL::bigint AS total
  FROM r CROSS JOIN LATERAL (SELECT * FROM messages WHERE partition = r.partition AND fn = r.fn AND id = r.id
    ORDER BY seq LIMIT r.lim) AS m
UNION ALL
SELECT r.k, ${STATE}, NULL, NULL, NULL, NULL, NULL, NULL, NULL, s.value, NULL, s.name, s.expires_at, NULL
  FROM r JOIN state AS s ON s.partition = r.partition AND s.fn = r.fn AND s.id = r.id
  WHERE s.expires_at IS NULL OR s.expires_at > r.now
UNION ALL
SELECT r.k, ${COUNT}, c.last, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, c.n
  FROM r CROSS JOIN LATERAL (SELECT count(*) AS n, max(seq) AS last FROM messages
    WHERE partition = r.partition AND fn = r.fn AND id = r.id) AS c
  WHERE r.with_count
ORDER BY k, part, seq`;

/**
 * The next batch, live state and (when asked) backlog count of every address in `requests`,
 * in ONE statement: dispatch asks for many addresses in one turn of the event loop when load
 * is spread over many keys, and a round trip per address was most of a message's cost. Being
 * one statement, its parts see one snapshot, so each count agrees with its batch.
 */
export async function readBatches(
  client: pg.Pool,
  partitionCount: number,
  requests: readonly BatchReadRequest[],
): Promise<UnitOutcome<BatchRead>[]> {
  const rows = await readPreparedRows<BatchRow>(client, READ_BATCHES, [
    requests.map(({ address }) => partitionOf(address.fn, address.id, partitionCount)),
    requests.map(({ address }) => address.fn),
    requests.map(({ address }) => address.id),
    // NULL is no limit: an endpoint without maxNumBatchRequests passes Infinity.
    requests.map(({ limit }) => (Number.isFinite(limit) ? limit : null)),
    requests.map(({ now }) => now),
    requests.map(({ withCount }) => withCount),
  ]);
  const reads = requests.map(() => ({
    messages: [] as StoredMessage[],
    state: new Map<string, StateValue>(),
    count: undefined as BatchRead["count"],
  }));
  for (const row of rows) {
    const read = reads[Number(row.k) - 1];
    if (!read) continue;
    if (row.part === HEAD) read.messages.push(toMessage(row));
    else if (row.part === STATE && row.name !== null) {
      read.state.set(row.name, {
        name: row.name,
        value: toBytes(row.value),
        expiresAt: row.expires_at === null ? null : Number(row.expires_at),
      });
    } else if (row.part === COUNT)
      read.count = { count: Number(row.total ?? 0), lastSeq: Number(row.seq ?? 0) };
  }
  return reads.map(({ messages, state, count }) => ({
    ok: true as const,
    value: { messages, state, ...(count ? { count } : {}) },
  }));
}
