-- Wakes the other instances (delivered at commit; repeats in one
-- transaction are folded into one): $1 is chime_jobs or chime_schedules,
-- $2 the schedule that changed on chime_schedules, '' otherwise.
SELECT pg_notify($1, $2)
