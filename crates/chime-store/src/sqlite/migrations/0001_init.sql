-- chime's SQLite schema, version 1. Instants are INTEGER milliseconds since
-- the Unix epoch (UTC); JSON columns hold chime-core's serde forms.

CREATE TABLE schedules (
    id           TEXT PRIMARY KEY,
    namespace    TEXT NOT NULL,
    name         TEXT NOT NULL,
    bucket       INTEGER NOT NULL,
    spec         TEXT NOT NULL,
    paused       INTEGER NOT NULL DEFAULT 0,
    version      INTEGER NOT NULL,
    next_fire_at INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX schedules_due ON schedules (bucket, next_fire_at)
    WHERE paused = 0 AND next_fire_at IS NOT NULL;
CREATE INDEX schedules_namespace ON schedules (namespace, id);

CREATE TABLE jobs (
    id                 TEXT PRIMARY KEY,
    namespace          TEXT NOT NULL,
    queue              TEXT NOT NULL,
    kind               TEXT NOT NULL,
    payload            TEXT NOT NULL,
    priority           INTEGER NOT NULL,
    state              TEXT NOT NULL,
    attempt            INTEGER NOT NULL DEFAULT 0,
    max_attempts       INTEGER NOT NULL,
    timeout_ms         INTEGER NOT NULL,
    backoff_initial_ms INTEGER NOT NULL,
    backoff_max_ms     INTEGER NOT NULL,
    target             TEXT,
    run_at             INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    finished_at        INTEGER,
    schedule_id        TEXT,
    scheduled_for      INTEGER,
    unique_key         TEXT,
    worker             TEXT,
    lease_token        TEXT,
    lease_expires_at   INTEGER,
    last_error         TEXT
);
-- Claim order: priority (highest first), then run_at.
CREATE INDEX jobs_claim ON jobs (queue, priority DESC, run_at) WHERE state = 'pending';
CREATE INDEX jobs_claim_any ON jobs (priority DESC, run_at) WHERE state = 'pending';
CREATE INDEX jobs_lease ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_schedule ON jobs (schedule_id, state) WHERE schedule_id IS NOT NULL;
CREATE UNIQUE INDEX jobs_unique ON jobs (namespace, unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('pending', 'running');
CREATE INDEX jobs_queue_state ON jobs (queue, state);
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE attempts (
    job_id      TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    worker      TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    outcome     TEXT,
    error       TEXT,
    output      TEXT,
    PRIMARY KEY (job_id, attempt)
) WITHOUT ROWID;

-- The ledger. Its primary key is the fire key: one occurrence, hence at most
-- one job, per (schedule, instant) (DESIGN §2.1).
CREATE TABLE occurrences (
    schedule_id        TEXT NOT NULL,
    scheduled_for      INTEGER NOT NULL,
    outcome            TEXT NOT NULL,
    reason             TEXT,
    job_id             TEXT,
    count              INTEGER NOT NULL DEFAULT 1,
    last_scheduled_for INTEGER,
    recorded_at        INTEGER NOT NULL,
    PRIMARY KEY (schedule_id, scheduled_for)
) WITHOUT ROWID;
CREATE INDEX occurrences_recorded ON occurrences (recorded_at);

CREATE TABLE buckets (
    bucket     INTEGER PRIMARY KEY,
    owner      TEXT,
    epoch      INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE queues (
    name   TEXT PRIMARY KEY,
    paused INTEGER NOT NULL DEFAULT 0
);
