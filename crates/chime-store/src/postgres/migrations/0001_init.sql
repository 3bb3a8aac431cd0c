-- chime's PostgreSQL schema, version 1. Instants are BIGINT milliseconds
-- since the Unix epoch (UTC), as on SQLite, so both backends share one row
-- decoder; JSON columns hold chime-core's serde forms as text.

CREATE TABLE schedules (
    id           TEXT PRIMARY KEY,
    namespace    TEXT NOT NULL,
    name         TEXT NOT NULL,
    bucket       BIGINT NOT NULL,
    spec         TEXT NOT NULL,
    paused       BOOLEAN NOT NULL DEFAULT false,
    version      BIGINT NOT NULL,
    next_fire_at BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX schedules_due ON schedules (bucket, next_fire_at)
    WHERE NOT paused AND next_fire_at IS NOT NULL;
CREATE INDEX schedules_namespace ON schedules (namespace, id);

CREATE TABLE jobs (
    id                 TEXT PRIMARY KEY,
    namespace          TEXT NOT NULL,
    queue              TEXT NOT NULL,
    kind               TEXT NOT NULL,
    payload            TEXT NOT NULL,
    priority           INTEGER NOT NULL,
    state              TEXT NOT NULL,
    attempt            BIGINT NOT NULL DEFAULT 0,
    max_attempts       BIGINT NOT NULL,
    timeout_ms         BIGINT NOT NULL,
    backoff_initial_ms BIGINT NOT NULL,
    backoff_max_ms     BIGINT NOT NULL,
    target             TEXT,
    run_at             BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    finished_at        BIGINT,
    schedule_id        TEXT,
    scheduled_for      BIGINT,
    unique_key         TEXT,
    worker             TEXT,
    lease_token        TEXT,
    lease_expires_at   BIGINT,
    last_error         TEXT
);
-- Claim order: priority (highest first), then run_at.
CREATE INDEX jobs_claim ON jobs (priority DESC, run_at) WHERE state = 'pending';
CREATE INDEX jobs_claim_queue ON jobs (queue, priority DESC, run_at) WHERE state = 'pending';
CREATE INDEX jobs_lease ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_schedule ON jobs (schedule_id, state) WHERE schedule_id IS NOT NULL;
CREATE UNIQUE INDEX jobs_unique ON jobs (namespace, unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('pending', 'running');
CREATE INDEX jobs_queue_state ON jobs (queue, state);
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE attempts (
    job_id      TEXT NOT NULL,
    attempt     BIGINT NOT NULL,
    worker      TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    outcome     TEXT,
    error       TEXT,
    output      TEXT,
    PRIMARY KEY (job_id, attempt)
);

-- The ledger. Its primary key is the fire key: one occurrence, hence at most
-- one job, per (schedule, instant) (DESIGN §2.1).
CREATE TABLE occurrences (
    schedule_id        TEXT NOT NULL,
    scheduled_for      BIGINT NOT NULL,
    outcome            TEXT NOT NULL,
    reason             TEXT,
    job_id             TEXT,
    count              BIGINT NOT NULL DEFAULT 1,
    last_scheduled_for BIGINT,
    recorded_at        BIGINT NOT NULL,
    PRIMARY KEY (schedule_id, scheduled_for)
);
CREATE INDEX occurrences_recorded ON occurrences (recorded_at);

CREATE TABLE buckets (
    bucket     BIGINT PRIMARY KEY,
    owner      TEXT,
    epoch      BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE queues (
    name   TEXT PRIMARY KEY,
    paused BOOLEAN NOT NULL DEFAULT false
);
