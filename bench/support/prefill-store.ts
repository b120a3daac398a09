/**
 * Fills an embedded store directly, before an instance opens it, so a benchmark can start with a
 * million addresses holding state or a million queued messages in seconds instead of the hour
 * ingress would take. Opens the file the way the runtime does (openDatabase: same pragmas and
 * schema) and inserts rows in large transactions; what it writes is what the runtime writes for
 * the benchmark counter (state `seen`, an INT) and for a message from the playground ingress.
 */
import { openDatabase } from "../../packages/runtime/src/store/open-database.js";

/** INT 1 as the SDK writes it (sfixed32 field 1): 0d 01 00 00 00. */
const SEEN_ONE = new Uint8Array([0x0d, 1, 0, 0, 0]);
const ROWS_PER_TRANSACTION = 100_000;

export interface Prefill {
  /** Addresses `<fn>/k0..k<n-1>` each get state `seen` = 1. */
  readonly state?: { readonly fn: string; readonly addresses: number };
  /** `messages` messages for `<fn>/k0..k<addresses-1>`, round robin, in acceptance order. */
  readonly queued?: { readonly fn: string; readonly messages: number; readonly addresses: number };
}

/** Writes the rows; returns how long it took in ms. */
export function prefillStore(dataDir: string, prefill: Prefill): number {
  const started = Date.now();
  const db = openDatabase({ dataDir });
  try {
    const { state, queued } = prefill;
    if (state) {
      const put = db.prepare(
        "INSERT INTO state (fn, id, name, value, expires_at) VALUES (?, ?, 'seen', ?, NULL)",
      );
      const batch = db.transaction((from: number, to: number) => {
        for (let k = from; k < to; k++) put.run(state.fn, `k${k}`, SEEN_ONE);
      });
      for (let from = 0; from < state.addresses; from += ROWS_PER_TRANSACTION) {
        batch(from, Math.min(from + ROWS_PER_TRANSACTION, state.addresses));
      }
    }
    if (queued) {
      const insert = db.prepare(
        `INSERT INTO messages (fn, id, caller_fn, caller_id, typename, has_value, value, accepted_at)
         VALUES (?, ?, NULL, NULL, 'io.statefun.types/string', 1, ?, ?)`,
      );
      // "1" as the playground ingress stores a text/plain body: a string wrapper (0a 01 31).
      const body = new Uint8Array([0x0a, 1, 0x31]);
      const now = Date.now();
      const batch = db.transaction((from: number, to: number) => {
        for (let k = from; k < to; k++) insert.run(queued.fn, `k${k % queued.addresses}`, body, now);
      });
      for (let from = 0; from < queued.messages; from += ROWS_PER_TRANSACTION) {
        batch(from, Math.min(from + ROWS_PER_TRANSACTION, queued.messages));
      }
    }
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
  return Date.now() - started;
}
