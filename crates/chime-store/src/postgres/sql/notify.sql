-- Wakes the other instances (delivered at commit; repeats in one
-- transaction are folded into one): $1 is chime_jobs or chime_schedules.
SELECT pg_notify($1, '')
