import type pg from "pg";
import { partitionOf } from "../../cluster/partition-hash.js";
import type { BatchRead, BatchReadRequest } from "../contract.js";
import type { StateValue, StoredMessage } from "../records.js";
import { type MessageRow, toBytes, toMessage } from "./postgres-rows.js";
import { readPreparedRows } from "./read-rows.js";

/** One row of the combined read: `part` says which of the three queries it came from. */
interface BatchRow extends MessageRow {
  part: 0 | 1 | 2;
  name: string | null;
  expires_at: string | null;
  total: string | null;
}

const HEAD = 0;
const STATE = 1;
const COUNT = 2;

const MESSAGE_PART = `SELECT ${HEAD} AS part, seq, fn, id, caller_fn, caller_id, typename, has_value, value, accepted_at,
    NULL::text AS name, NULL::bigint AS expires_at, NULL::bigint AS total
  FROM (SELECT * FROM messages WHERE partition = $1 AND fn = $2 AND id = $3 ORDER BY seq LIMIT $4) AS head`;
const STATE_PART = `SELECT ${STATE}, NULL, NULL, NULL, NULL, NULL, NULL, NULL, value, NULL, name, expires_at, NULL
  FROM state WHERE partition = $1 AND fn = $2 AND id = $3 AND (expires_at IS NULL OR expires_at > $5)`;
const COUNT_PART = `SELECT ${COUNT}, max(seq), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, count(*)
  FROM messages WHERE partition = $1 AND fn = $2 AND id = $3`;

// The parts' order is kept by the ORDER BY, not left to how the union happens to run.
const WITHOUT_COUNT = `${MESSAGE_PART}\nUNION ALL\n${STATE_PART}\nORDER BY part, seq`;
const WITH_COUNT = `${MESSAGE_PART}\nUNION ALL\n${STATE_PART}\nUNION ALL\n${COUNT_PART}\nORDER BY part, seq`;

/**
 * An address's next batch, its live state and (when asked) its backlog's count in one
 * statement: one round trip instead of three. Being one statement, its parts see one
 * snapshot, so the count and the batch agree.
 */
export async function readBatch(
  client: pg.Pool,
  partitionCount: number,
  { address, limit, now, withCount }: BatchReadRequest,
): Promise<BatchRead> {
  const partition = partitionOf(address.fn, address.id, partitionCount);
  // LIMIT NULL is no limit: an endpoint without maxNumBatchRequests passes Infinity.
  const values = [partition, address.fn, address.id, Number.isFinite(limit) ? limit : null, now];
  const rows = await readPreparedRows<BatchRow>(client, withCount ? WITH_COUNT : WITHOUT_COUNT, values);
  const messages: StoredMessage[] = [];
  const state = new Map<string, StateValue>();
  let count: BatchRead["count"];
  for (const row of rows) {
    if (row.part === HEAD) messages.push(toMessage(row));
    else if (row.part === STATE && row.name !== null) {
      state.set(row.name, {
        name: row.name,
        value: toBytes(row.value),
        expiresAt: row.expires_at === null ? null : Number(row.expires_at),
      });
    } else if (row.part === COUNT) count = { count: Number(row.total ?? 0), lastSeq: Number(row.seq ?? 0) };
  }
  return { messages, state, ...(count ? { count } : {}) };
}
