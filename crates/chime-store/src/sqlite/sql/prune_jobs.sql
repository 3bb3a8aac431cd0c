-- Finished jobs older than their queue's cutoff: ?3 is {queue: cutoff ms},
-- ?1 the cutoff of every other queue, ?4 the latest of all (bounds the
-- index range). At most ?2; their attempts go in the same transaction.
DELETE FROM jobs WHERE id IN (
    SELECT id FROM jobs
    WHERE finished_at IS NOT NULL AND finished_at < ?4
      AND finished_at < COALESCE(json_extract(?3, '$."' || queue || '"'), ?1)
    LIMIT ?2
)
RETURNING id
