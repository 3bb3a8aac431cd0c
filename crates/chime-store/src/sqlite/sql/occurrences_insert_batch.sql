-- Ledger entries: ?1 JSON array of {schedule_id, scheduled_for, outcome,
-- reason, job_id, count, last_scheduled_for}, ?2 now. Returns the fire keys
-- newly recorded; a key recorded before is left alone (one job per fire).
INSERT INTO occurrences (schedule_id, scheduled_for, outcome, reason, job_id, count, last_scheduled_for, recorded_at)
SELECT value ->> 'schedule_id', value ->> 'scheduled_for', value ->> 'outcome', value ->> 'reason',
       value ->> 'job_id', value ->> 'count', value ->> 'last_scheduled_for', ?2
FROM json_each(?1)
WHERE true
ON CONFLICT (schedule_id, scheduled_for) DO NOTHING
RETURNING schedule_id, scheduled_for
