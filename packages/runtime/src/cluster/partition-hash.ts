import { createHash } from "node:crypto";

/**
 * The partition of an address. THIS FUNCTION MUST NEVER CHANGE: every message, state value
 * and timer in a cluster's database was filed under the partition it computed, so a
 * different answer would hide them from their owner.
 *
 * Definition: take the UTF-8 bytes of `fn + "/" + id` (fn is the function type
 * `namespace/name`, id the instance id, both as the protocol carries them); compute their
 * SHA-256; read the digest's first 4 bytes as an unsigned big-endian 32-bit integer; the
 * partition is that integer modulo the partition count.
 *
 * The same in SQL, for operators:
 *   ('x' || left(encode(sha256(convert_to(fn || '/' || id, 'UTF8')), 'hex'), 8))::bit(32)::bigint % partition_count
 *
 * SHA-256 rather than a faster hash because its bit spread is even under any modulus, it is
 * specified everywhere (Node, PostgreSQL, every language) and it costs about a microsecond.
 */
export function partitionOf(fn: string, id: string, partitionCount: number): number {
  return addressHash(fn, id) % partitionCount;
}

/** The unsigned 32-bit number partitionOf reduces modulo the partition count. */
export function addressHash(fn: string, id: string): number {
  return createHash("sha256").update(`${fn}/${id}`, "utf8").digest().readUInt32BE(0);
}
