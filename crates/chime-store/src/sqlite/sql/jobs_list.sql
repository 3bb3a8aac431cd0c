-- ?1 namespace, ?2 queue, ?3 state, ?4 schedule, ?5 before id, ?6 limit; NULL: any.
SELECT * FROM jobs
WHERE (?1 IS NULL OR namespace = ?1)
  AND (?2 IS NULL OR queue = ?2)
  AND (?3 IS NULL OR state = ?3)
  AND (?4 IS NULL OR schedule_id = ?4)
  AND (?5 IS NULL OR id < ?5)
ORDER BY id DESC
LIMIT ?6
