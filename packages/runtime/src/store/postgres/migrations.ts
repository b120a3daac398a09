import { SCHEMA_V1_SQL } from "./schema-v1.js";
import { SCHEMA_V2_SQL } from "./schema-v2.js";

/**
 * Every schema change, in order. A migration is never edited once released: a change is a
 * new entry with the next version, so every database reaches the same schema by the same
 * steps.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: "cluster tables and the store's tables with partitions", sql: SCHEMA_V1_SQL },
  { version: 2, description: "state expiry index for purging expired values", sql: SCHEMA_V2_SQL },
];

/** The schema version this build of Switchboard writes and reads. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce(
  (latest, migration) => Math.max(latest, migration.version),
  0,
);
