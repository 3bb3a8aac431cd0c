-- ?1 JSON array of buckets, ?2 until (ms), ?3 limit.
SELECT * FROM schedules
WHERE bucket IN (SELECT value FROM json_each(?1))
  AND paused = 0
  AND next_fire_at IS NOT NULL
  AND next_fire_at <= ?2
ORDER BY next_fire_at
LIMIT ?3
