/**
 * Version 1 of the PostgreSQL schema. The data tables mirror the SQLite store's
 * (../schema.ts), with the same columns and meanings, plus a `partition` column on every
 * table whose rows belong to an address (computed by cluster/partition-hash.ts), so one
 * partition's rows can be found, and fenced, without touching another's. Times the runtime
 * writes stay epoch milliseconds (bigint) as in SQLite; times PostgreSQL itself judges
 * (heartbeats, leases) are timestamptz from the server's clock, so instances never compare
 * their own clocks.
 */
export const SCHEMA_V1_SQL = `
-- One row: the cluster's fixed partition count, set when the cluster is created.
CREATE TABLE cluster_meta (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  partition_count integer NOT NULL CHECK (partition_count BETWEEN 1 AND 65536),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Instances that registered; live while heartbeat_at is within the lease.
CREATE TABLE members (
  instance_id text PRIMARY KEY,
  host text NOT NULL,
  ports jsonb NOT NULL DEFAULT '{}',
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

-- One row per partition. epoch grows by one on every change of hands (acquire, release);
-- a writer's transaction checks it still holds the epoch it took (cluster/fencing.ts).
CREATE TABLE partitions (
  partition integer PRIMARY KEY,
  owner text,
  epoch bigint NOT NULL DEFAULT 0,
  lease_expires_at timestamptz,
  acquired_at timestamptz
);

CREATE TABLE messages (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partition integer NOT NULL,
  fn text NOT NULL,
  id text NOT NULL,
  caller_fn text,
  caller_id text,
  typename text NOT NULL,
  has_value boolean NOT NULL,
  value bytea,
  accepted_at bigint NOT NULL
);
CREATE INDEX messages_by_address ON messages (partition, fn, id, seq);
CREATE INDEX messages_by_partition ON messages (partition, seq);

CREATE TABLE state (
  partition integer NOT NULL,
  fn text NOT NULL,
  id text NOT NULL,
  name text NOT NULL,
  value bytea NOT NULL,
  expires_at bigint,
  PRIMARY KEY (partition, fn, id, name)
);

-- Per function type, not per address: shared by every partition.
CREATE TABLE specs (
  fn text NOT NULL,
  name text NOT NULL,
  typename text NOT NULL,
  expire_mode integer NOT NULL,
  expire_after_ms bigint NOT NULL,
  registered_at bigint NOT NULL,
  PRIMARY KEY (fn, name)
);

-- partition is the sender's: the sender's owner fires and cancels its timers.
CREATE TABLE timers (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partition integer NOT NULL,
  sender_fn text NOT NULL,
  sender_id text NOT NULL,
  token text,
  due_at bigint NOT NULL,
  target_fn text NOT NULL,
  target_id text NOT NULL,
  typename text NOT NULL,
  has_value boolean NOT NULL,
  value bytea
);
CREATE UNIQUE INDEX timers_by_token ON timers (sender_fn, sender_id, token) WHERE token IS NOT NULL;
CREATE INDEX timers_by_due ON timers (partition, due_at, seq);

-- partition is the producing address's: that partition's owner delivers the record.
CREATE TABLE egress (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partition integer NOT NULL,
  egress text NOT NULL,
  topic text,
  typename text NOT NULL,
  value bytea,
  created_at bigint NOT NULL,
  attempts integer NOT NULL DEFAULT 0
);
CREATE INDEX egress_by_target ON egress (egress, topic, seq);
CREATE INDEX egress_by_partition ON egress (partition, seq);

CREATE TABLE suspensions (
  partition integer NOT NULL,
  fn text NOT NULL,
  id text NOT NULL,
  failures integer NOT NULL,
  error_code text NOT NULL,
  error_message text NOT NULL,
  suspended_at bigint NOT NULL,
  retry_at bigint NOT NULL,
  PRIMARY KEY (partition, fn, id)
);

CREATE TABLE dead_letters (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partition integer NOT NULL,
  fn text NOT NULL,
  id text NOT NULL,
  caller_fn text,
  caller_id text,
  typename text NOT NULL,
  has_value boolean NOT NULL,
  value bytea,
  accepted_at bigint NOT NULL,
  original_seq bigint NOT NULL,
  error_code text NOT NULL,
  error_message text NOT NULL,
  dead_lettered_at bigint NOT NULL
);
CREATE INDEX dead_letters_by_address ON dead_letters (partition, fn, id, seq);
`;
