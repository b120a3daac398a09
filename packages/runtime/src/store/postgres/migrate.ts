import type pg from "pg";
import { StoreErrors } from "../../errors/store-errors.js";
import { SwitchboardError } from "../../errors/switchboard-error.js";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "./migrations.js";
import { inTransaction, type Transaction } from "./transaction.js";

// Any fixed number: instances starting together queue on it instead of racing to migrate.
const MIGRATION_LOCK = 0x5357_4244;

export interface MigrationOutcome {
  readonly from: number;
  readonly to: number;
}

/**
 * Brings the database's schema to this build's version in one transaction: every pending
 * migration, in order, or none. Safe to run from several instances at once and again and
 * again. A database already at a newer version is left untouched: SB_STORE_SCHEMA_TOO_NEW.
 */
export async function migrateSchema(pool: pg.Pool): Promise<MigrationOutcome> {
  return inTransaction(pool, async (transaction) => {
    await transaction.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await transaction.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      description text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const from = await currentVersion(transaction);
    refuseNewer(from);
    for (const migration of MIGRATIONS) {
      if (migration.version <= from) continue;
      await transaction.query(migration.sql);
      await transaction.query("INSERT INTO schema_migrations (version, description) VALUES ($1, $2)", [
        migration.version,
        migration.description,
      ]);
    }
    return { from, to: Math.max(from, LATEST_SCHEMA_VERSION) };
  });
}

/** The schema version the database holds (0: none), without changing anything. */
export async function readSchemaVersion(client: pg.Pool | Transaction): Promise<number> {
  const { rows } = await client.query<{ exists: boolean }>(
    "SELECT to_regclass('schema_migrations') IS NOT NULL AS exists",
  );
  if (!rows[0]?.exists) return 0;
  return currentVersion(client);
}

/** Fails with SB_STORE_SCHEMA_TOO_NEW unless this build can read `version`. */
export function refuseNewer(version: number): void {
  if (version > LATEST_SCHEMA_VERSION) {
    throw new SwitchboardError(
      StoreErrors.SCHEMA_TOO_NEW,
      `the store's schema is version ${version}, newer than this Switchboard's ${LATEST_SCHEMA_VERSION}; upgrade Switchboard (nothing was changed)`,
      { schemaVersion: version, supportedVersion: LATEST_SCHEMA_VERSION },
    );
  }
}

async function currentVersion(client: pg.Pool | Transaction): Promise<number> {
  const { rows } = await client.query<{ version: number | null }>(
    "SELECT max(version) AS version FROM schema_migrations",
  );
  return rows[0]?.version ?? 0;
}
