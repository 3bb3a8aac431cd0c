-- Returns a row only if this fire key was not recorded before.
INSERT INTO occurrences (schedule_id, scheduled_for, outcome, reason, job_id, count, last_scheduled_for, recorded_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
ON CONFLICT (schedule_id, scheduled_for) DO NOTHING
RETURNING scheduled_for
