-- Locks schedules $1 in id order: two firers of overlapping batches queue
-- behind each other instead of deadlocking.
SELECT id FROM schedules WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE
