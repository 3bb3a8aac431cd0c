-- Ledger entries recorded before $1, at most $2.
DELETE FROM occurrences WHERE (schedule_id, scheduled_for) IN (
    SELECT schedule_id, scheduled_for FROM occurrences WHERE recorded_at < $1 LIMIT $2
)
