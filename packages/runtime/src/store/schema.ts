/**
 * The embedded store's tables. Everything the runtime must not lose lives here: accepted
 * messages (the inbox and every address's backlog are the same table, ordered by seq),
 * state values with their expiry, registered state specs, pending delayed messages, the
 * egress outbox, suspended addresses and the dead-letter store.
 */
export const SCHEMA_VERSION = 1;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per accepted message not yet consumed by an applied result. seq is the global
-- acceptance order; per-address order is seq order within (fn, id).
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  fn TEXT NOT NULL,
  id TEXT NOT NULL,
  caller_fn TEXT,
  caller_id TEXT,
  typename TEXT NOT NULL,
  has_value INTEGER NOT NULL,
  value BLOB,
  accepted_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_address ON messages (fn, id, seq);

CREATE TABLE IF NOT EXISTS state (
  fn TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  value BLOB NOT NULL,
  -- epoch ms after which the value is gone; NULL = never expires
  expires_at INTEGER,
  PRIMARY KEY (fn, id, name)
) WITHOUT ROWID;
-- Lets the periodic purge of expired values touch only values that can expire.
CREATE INDEX IF NOT EXISTS state_by_expiry ON state (expires_at) WHERE expires_at IS NOT NULL;

-- State specs registered per function type (first registration of a name wins).
CREATE TABLE IF NOT EXISTS specs (
  fn TEXT NOT NULL,
  name TEXT NOT NULL,
  typename TEXT NOT NULL,
  expire_mode INTEGER NOT NULL,
  expire_after_ms INTEGER NOT NULL,
  registered_at INTEGER NOT NULL,
  PRIMARY KEY (fn, name)
) WITHOUT ROWID;

-- Delayed messages, owned by their sender; tokens are unique per sender.
CREATE TABLE IF NOT EXISTS timers (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  sender_fn TEXT NOT NULL,
  sender_id TEXT NOT NULL,
  token TEXT,
  due_at INTEGER NOT NULL,
  target_fn TEXT NOT NULL,
  target_id TEXT NOT NULL,
  typename TEXT NOT NULL,
  has_value INTEGER NOT NULL,
  value BLOB
);
CREATE UNIQUE INDEX IF NOT EXISTS timers_by_token ON timers (sender_fn, sender_id, token) WHERE token IS NOT NULL;
CREATE INDEX IF NOT EXISTS timers_by_due ON timers (due_at, seq);

-- Egress records waiting to be delivered or consumed; seq doubles as the idempotency key.
CREATE TABLE IF NOT EXISTS egress (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  egress TEXT NOT NULL,
  topic TEXT,
  typename TEXT NOT NULL,
  value BLOB,
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS egress_by_target ON egress (egress, topic, seq);

-- Addresses whose last batch failed past its endpoint's call budget.
CREATE TABLE IF NOT EXISTS suspensions (
  fn TEXT NOT NULL,
  id TEXT NOT NULL,
  failures INTEGER NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  suspended_at INTEGER NOT NULL,
  retry_at INTEGER NOT NULL,
  PRIMARY KEY (fn, id)
) WITHOUT ROWID;

-- Messages an operator moved out of a suspended address's backlog (admin API). They stay
-- here until re-injected or dropped; seq is the dead letter's own id.
CREATE TABLE IF NOT EXISTS dead_letters (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  fn TEXT NOT NULL,
  id TEXT NOT NULL,
  caller_fn TEXT,
  caller_id TEXT,
  typename TEXT NOT NULL,
  has_value INTEGER NOT NULL,
  value BLOB,
  accepted_at INTEGER NOT NULL,
  original_seq INTEGER NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  dead_lettered_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_by_address ON dead_letters (fn, id, seq);
`;
