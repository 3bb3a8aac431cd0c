-- Ledger entries: $1 JSON array of {schedule_id, scheduled_for, outcome,
-- reason, job_id, count, last_scheduled_for}, $2 now. Returns the fire keys
-- newly recorded; a key recorded before is left alone (one job per fire).
INSERT INTO occurrences (schedule_id, scheduled_for, outcome, reason, job_id, count, last_scheduled_for, recorded_at)
SELECT o.schedule_id, o.scheduled_for, o.outcome, o.reason, o.job_id, o.count, o.last_scheduled_for, $2
FROM jsonb_to_recordset($1::jsonb) AS o(schedule_id text, scheduled_for bigint, outcome text, reason text,
                                        job_id text, count bigint, last_scheduled_for bigint)
ORDER BY o.schedule_id, o.scheduled_for
ON CONFLICT (schedule_id, scheduled_for) DO NOTHING
RETURNING schedule_id, scheduled_for
