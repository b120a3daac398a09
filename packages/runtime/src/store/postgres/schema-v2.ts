/**
 * Version 2: the index that lets purging expired state touch only values that can expire
 * (the SQLite store's state_by_expiry); without it every purge scans the whole state table.
 */
export const SCHEMA_V2_SQL = `
CREATE INDEX state_by_expiry ON state (expires_at) WHERE expires_at IS NOT NULL;
`;
