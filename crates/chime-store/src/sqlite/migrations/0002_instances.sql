-- Live instances (DESIGN §4): each scheduler beats here; buckets are
-- shared among the entries that have not expired.
CREATE TABLE instances (
    id         TEXT PRIMARY KEY,
    started_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
