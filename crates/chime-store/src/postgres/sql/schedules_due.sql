-- $1 buckets, $2 until (ms), $3 limit.
SELECT * FROM schedules
WHERE bucket = ANY($1::bigint[])
  AND NOT paused
  AND next_fire_at IS NOT NULL
  AND next_fire_at <= $2
ORDER BY next_fire_at
LIMIT $3
